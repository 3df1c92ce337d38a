/**
 * What every part gets from the composition root (app.ts): named dependencies, no singletons.
 */
import type { Logger } from 'pino';
import type { PasswordChecker } from './auth/password-cache.js';
import type { ClusterNode } from './cluster/node.js';
import type { Config } from './config/types.js';
import type { Metrics } from './metrics.js';
import type { LivenessRegistry } from './liveness/types.js';
import type { PresenceIngest } from './presence/ingest.js';
import type { PresenceTable } from './presence/types.js';
import type { Store } from './store/types.js';
import type { Clock } from './time/clock.js';
import type { Scheduler } from './time/scheduler.js';

export interface CoreDeps {
  config: Config;
  /** Absolute path of data_dir. */
  dataDir: string;
  clock: Clock;
  scheduler: Scheduler;
  logger: Logger;
  store: Store;
  liveness: LivenessRegistry;
  /** The presence table; it also takes gateway rows (PresenceIngest, issue 19). */
  presence: PresenceTable & PresenceIngest;
  metrics: Metrics;
  /** Cluster mode (config `cluster`): this node's membership, mirror and forwarding; absent on a single node. */
  cluster?: ClusterNode;
  /** One password cache for every transport (MQTT CONNECT, XMPP PLAIN); when absent each builds its own. */
  passwords?: PasswordChecker;
}

/** A network-facing part (XMPP listener, MQTT listener, HTTP API) started and stopped by the app. */
export interface Service {
  readonly name: string;
  start(): Promise<void>;
  /** Stop accepting, close every client with reason `shutdown` (XMPP system-shutdown, MQTT v5 0x8B). */
  stop(): Promise<void>;
  /** Bound address once started (port 0 resolves to the real port). */
  address(): { host: string; port: number } | null;
}
