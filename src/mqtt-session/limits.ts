/**
 * From the per host `mqtt.*` options (seconds, snake_case, as in src/config/schema/mqtt.ts) to the
 * core's SessionLimits (ms). The config schema is the only place a default lives: an option left
 * out (tests, callers without a config) takes the schema's default.
 */
import { defaults } from '../config/dsl.js';
import { mqttSchema } from '../config/schema/mqtt.js';
import type { SessionLimits } from './types.js';

export interface SessionOptions {
  max_inflight: number;
  max_awaiting_rel: number;
  await_rel_timeout: number;
  max_mqueue_len: number;
  /** Deprecated alias of max_mqueue_len (0 = unset): when set, the smaller applies. */
  max_pending: number;
  mqueue_store_qos0: boolean;
  mqueue_priorities: Record<string, number>;
  mqueue_default_priority: 'lowest' | 'highest';
  session_expiry: number;
  max_session_expiry: number;
  retry_interval: number;
}

const SCHEMA_DEFAULTS: Readonly<SessionOptions> = defaults(mqttSchema);

export function sessionLimits(given: Partial<SessionOptions> = {}): SessionLimits {
  const o: SessionOptions = { ...SCHEMA_DEFAULTS, ...given };
  return {
    maxInflight: o.max_inflight,
    maxAwaitingRel: o.max_awaiting_rel,
    awaitRelTimeoutMs: o.await_rel_timeout * 1000,
    maxMqueueLen: Math.min(o.max_mqueue_len, o.max_pending || Infinity),
    mqueueStoreQos0: o.mqueue_store_qos0,
    mqueuePriorities: o.mqueue_priorities,
    mqueueDefaultPriority: o.mqueue_default_priority,
    sessionExpiryMs: o.session_expiry * 1000,
    maxSessionExpiryMs: o.max_session_expiry * 1000,
    retryIntervalMs: o.retry_interval * 1000,
  };
}

/** The schema's defaults as SessionLimits (tests, and the core's users without a config). */
export const DEFAULT_LIMITS: Readonly<SessionLimits> = Object.freeze(sessionLimits());
