/**
 * The broker's session service, composed (docs/sessions.md "Wiring"): the session core
 * (src/mqtt-session/) with the batching durable writer on store.sessions (one SQLite transaction
 * per event-loop turn) and per host limits from `mqtt.*`. A deleted session (clean close, expiry,
 * clean-start discard) hands its filters out for removal from the routers. Once the routers exist,
 * `restorePersistent` brings back the persistent sessions of the store, their filters handed back
 * for the routers.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { SessionWriter } from '../mqtt-session/durable.js';
import { sessionLimits } from '../mqtt-session/limits.js';
import { restoreSessions } from '../mqtt-session/restore.js';
import { SessionService, type FlowObserver } from '../mqtt-session/session-service.js';
import type { SessionFigures } from '../mqtt-session/types.js';
import type { Meta } from '../presence/types.js';
import type { Store } from '../store/types.js';
import type { Clock } from '../time/clock.js';
import type { Scheduler } from '../time/scheduler.js';
import type { SubOptions } from './channel-session.js';
import { deliveryCodec } from './delivery-codec.js';
import type { Delivery } from './message.js';

/** What the broker uses of its session service (a SessionService; a cluster wraps one). */
/** The composition root's parts the sessions need (a subset of CoreDeps, named here to keep deps.ts out of the cluster's imports). */
interface SessionDeps {
  config: Config;
  clock: Clock;
  scheduler: Scheduler;
  store: Store;
  logger: Logger;
}

export type BrokerSessions = Pick<SessionService<Delivery, SubOptions>, 'open' | 'close' | 'deliver' | 'whenDurable' | 'figures' | 'shutdown' | 'manager'>;

export interface SessionHooks {
  onDrop(): void;
  /** Back-pressure (backpressure.ts) watches deliveries and acks. */
  flow: FlowObserver;
  removeSubscription(host: string, clientId: string, filter: string): void;
  /** A deleted session's unacknowledged shared deliveries, for another member (router.ts `redeliver`). */
  redeliver(host: string, clientId: string, ds: Delivery[]): void;
}

/** Start-up: stored subscriptions go back into the routers through `add`. */
export type RestoreSubscriptions = (add: (host: string, clientId: string, filter: string, opts: SubOptions) => void) => void;

/**
 * Builds the broker's sessions once its hooks exist; `restore` runs once the routers do. Single
 * node: `localSessions` (SQLite writer, sessions restored from the store). A cluster passes its own
 * (Redis writer; sessions are loaded when their client connects, src/cluster/mqtt/).
 */
export type SessionsFactory = (hooks: SessionHooks) => { sessions: BrokerSessions; restore: RestoreSubscriptions };

export function localSessions(deps: SessionDeps): SessionsFactory {
  return (hooks) => {
    const sessions = createSessions(deps, hooks);
    return { sessions, restore: (add) => restorePersistent(sessions, deps, add) };
  };
}

export function createSessions(deps: Omit<SessionDeps, 'logger'>, hooks: SessionHooks): SessionService<Delivery, SubOptions> {
  const writer = new SessionWriter<Delivery>({ repo: deps.store.sessions, codec: deliveryCodec, defer: (fn) => setImmediate(fn) });
  return new SessionService<Delivery, SubOptions>({
    limitsOf: (host) => sessionLimits(deps.config.hosts[host]!.mqtt),
    clock: deps.clock,
    scheduler: deps.scheduler,
    writer,
    onDrop: () => hooks.onDrop(),
    flow: hooks.flow,
    onDeleted: (key, filters, unacked) => {
      let shared = false;
      for (const f of filters) {
        hooks.removeSubscription(key.host, key.clientId, f);
        if (f.startsWith('$share/')) shared = true;
      }
      // A member's session ended: what it had not acknowledged goes to another member (MQTT 5.0 §4.8.2).
      if (shared) hooks.redeliver(key.host, key.clientId, unacked().filter((d) => d.share !== undefined));
    },
  });
}

/** Start-up: the store's persistent sessions back into the service, their filters to `restoreSubscription`. */
export function restorePersistent(
  sessions: SessionService<Delivery, SubOptions>,
  deps: Pick<SessionDeps, 'clock' | 'store' | 'logger'>,
  restoreSubscription: (host: string, clientId: string, filter: string, opts: SubOptions) => void,
): void {
  const r = restoreSessions(sessions.manager, deps.store.sessions, deliveryCodec, (o) => o as unknown as SubOptions, deps.clock.now());
  sessions.adoptRestored(r.effects);
  for (const s of r.subscriptions) restoreSubscription(s.key.host, s.key.clientId, s.filter, s.opts);
  if (r.sessions > 0) deps.logger.info({ event: 'mqtt_sessions_restored', sessions: r.sessions, subscriptions: r.subscriptions.length }, 'MQTT sessions restored');
}

/** Session figures as presence meta (snake_case like the other meta fields; expires_at in wall-clock ms). */
export function snakeFigures(f: SessionFigures | undefined): Meta {
  const out: Meta = {};
  if (f) for (const [k, v] of Object.entries(f)) out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = v;
  return out;
}
