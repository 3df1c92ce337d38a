/**
 * From the per host `mqtt.*` options (seconds, snake_case, as in src/config/schema/mqtt.ts) to the
 * core's SessionLimits (ms). Options not (yet) in the schema fall back to the defaults, so this
 * compiles against the schema before and after the session keys are added.
 */
import { DEFAULT_LIMITS, type SessionLimits } from './types.js';

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

export function sessionLimits(o: Partial<SessionOptions>): SessionLimits {
  const d = DEFAULT_LIMITS;
  const ms = (s: number | undefined, fallbackMs: number) => (s === undefined ? fallbackMs : s * 1000);
  return {
    maxInflight: o.max_inflight ?? d.maxInflight,
    maxAwaitingRel: o.max_awaiting_rel ?? d.maxAwaitingRel,
    awaitRelTimeoutMs: ms(o.await_rel_timeout, d.awaitRelTimeoutMs),
    maxMqueueLen: Math.min(o.max_mqueue_len ?? d.maxMqueueLen, o.max_pending || Infinity),
    mqueueStoreQos0: o.mqueue_store_qos0 ?? d.mqueueStoreQos0,
    mqueuePriorities: o.mqueue_priorities ?? d.mqueuePriorities,
    mqueueDefaultPriority: o.mqueue_default_priority ?? d.mqueueDefaultPriority,
    sessionExpiryMs: ms(o.session_expiry, d.sessionExpiryMs),
    maxSessionExpiryMs: ms(o.max_session_expiry, d.maxSessionExpiryMs),
    retryIntervalMs: ms(o.retry_interval, d.retryIntervalMs),
  };
}
