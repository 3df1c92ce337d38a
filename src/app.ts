/**
 * Composition root: builds every part in visible order and owns start/stop. No protocol logic here.
 *
 *   config -> store -> host settings (file + stored overrides) -> liveness registry (per-host
 *          workers, hears host settings changes) -> presence table (listens to liveness)
 *          -> XMPP and MQTT services (adapters: track/touch/untrack, probe/kill)
 *          -> HTTP API (reads presence, acts through liveness handles)
 *          -> gateways (issue 19: rows of clients other servers terminate, through PresenceIngest)
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { LoadedConfig } from './config/load.js';
import { PasswordChecker } from './auth/password-cache.js';
import { createClusterHostSettings } from './cluster/host-settings.js';
import { ClusterNode } from './cluster/node.js';
import type { RedisLink } from './cluster/redis.js';
import type { CoreDeps, Service } from './deps.js';
import { createGatewayService, type GatewayService } from './gateway/service.js';
import { createHttpApp } from './http/app.js';
import { resolveApiToken } from './http/token.js';
import { createLocalHostSettings } from './host-settings.js';
import { createLivenessRegistry } from './liveness/registry.js';
import { coalescingScheduler } from './time/coalescing.js';
import { createLogger } from './log.js';
import { createMetrics } from './metrics.js';
import { createMqttService } from './mqtt/listener.js';
import { createPresenceTable } from './presence/table.js';
import { openStore } from './store/index.js';
import type { Store } from './store/types.js';
import { type Clock, systemClock } from './time/clock.js';
import { type Scheduler, systemScheduler } from './time/scheduler.js';
import { createXmppListener } from './xmpp/listener.js';

export interface AppOptions {
  loaded: LoadedConfig;
  logger?: Logger;
  clock?: Clock;
  scheduler?: Scheduler;
  /** Default: the embedded SQLite store in data_dir. */
  store?: Store;
  /** Which protocol listeners to run (default both). */
  xmpp?: boolean;
  mqtt?: boolean;
  /** Collect process metrics (event loop lag, memory) into /metrics. Default true. */
  processMetrics?: boolean;
  /** Cluster mode, tests: wraps every Redis connection (fault injection, src/cluster/node.ts). */
  wrapRedisLink?: (link: RedisLink) => RedisLink;
}

export interface App {
  readonly deps: CoreDeps;
  readonly http: FastifyInstance;
  readonly services: readonly Service[];
  readonly apiToken: string;
  readonly gateways: GatewayService;
  start(): Promise<void>;
  /** Graceful stop: stop accepting, close clients with reason shutdown, close HTTP, flush the store. */
  stop(): Promise<void>;
  /** Bound addresses once started, by service name ('xmpp', 'mqtt', 'http'). */
  addresses(): Record<string, { host: string; port: number } | null>;
}

export function createApp(opts: AppOptions): App {
  const { loaded } = opts;
  const { config, dataDir } = loaded;
  const logger = opts.logger ?? createLogger(config.log.level);
  const clock = opts.clock ?? systemClock;
  const scheduler = opts.scheduler ?? systemScheduler;
  const ownStore = opts.store ?? openStore('sqlite', dataDir);
  const metrics = createMetrics({ processMetrics: opts.processMetrics ?? true });

  const localHostSettings = createLocalHostSettings({ config, overrides: ownStore.hostConfig, logger });
  // Production reads the clock once per event-loop turn for touch() (bench/liveness.ts: ~9 ns vs ~55 ns
  // a touch); an injected (manual) clock needs the exact time on every touch.
  const activityTime = opts.clock ? 'exact' : 'turn';
  // Liveness timers on a grid (src/time/coalescing.ts): one wakeup per slot, not per deadline.
  const livenessScheduler = coalescingScheduler(scheduler, clock, config.liveness.timer_slack_ms);
  const liveness = createLivenessRegistry({ clock, scheduler: livenessScheduler, hosts: localHostSettings.all(), activityTime });
  // Cluster mode: presence is Redis's, read from this node's mirror (src/cluster/); else the local table.
  const cluster = config.cluster ? new ClusterNode({ config, store: ownStore, metrics, clock, scheduler, logger, liveness, ...(opts.wrapRedisLink ? { wrapLink: opts.wrapRedisLink } : {}) }) : undefined;
  // Cluster mode: host settings, users and rosters are the cluster's (Redis, applied on every node).
  const hostSettings = cluster ? createClusterHostSettings(localHostSettings, cluster) : localHostSettings;
  hostSettings.subscribe((host, settings) => liveness.setHostConfig(host, settings));
  const store = cluster ? cluster.storeOver(ownStore) : ownStore;
  const presence =
    cluster?.presence ??
    createPresenceTable({
      clock,
      scheduler,
      liveness,
      feedSize: config.presence.feed_size,
      offlineTtlMs: config.presence.offline_ttl * 1000,
      maxOffline: config.presence.max_offline,
    });
  const passwords = new PasswordChecker(store); // shared: an MQTT login warms XMPP PLAIN and back
  const deps = { config, dataDir, clock, scheduler, logger, store, liveness, presence, metrics, passwords, ...(cluster ? { cluster } : {}) } satisfies CoreDeps;

  const services: Service[] = [];
  if (opts.xmpp ?? true) services.push(createXmppListener({ ...deps, hostSettings }));
  if (opts.mqtt ?? true) services.push(createMqttService(deps));

  let started = false;
  let stopping: Promise<void> | null = null;
  const apiToken = resolveApiToken(config, dataDir, logger);
  // Gateway timers on the plain scheduler: the watcher's idle ping is exact, not on the liveness grid.
  // Cluster mode refuses gateways at config load (src/config/load.ts), so nothing is ingested there.
  const gateways = createGatewayService({ config, ingest: presence, clock, scheduler, logger, metrics });
  // Ready: listeners up, store open, and in cluster mode a member (not joining, not fenced).
  const ready = () => started && store.isOpen() && (!cluster || cluster.membership.state === 'member');
  const http = createHttpApp({ ...deps, hostSettings, services: () => services, apiToken, ready, gateways });

  return {
    deps,
    http,
    services,
    apiToken,
    gateways,
    async start() {
      await cluster?.start(); // joined and mirrored before any listener accepts
      for (const s of services) await s.start();
      await http.listen({ host: config.listeners.http.host, port: config.listeners.http.port });
      const h = this.addresses().http;
      if (cluster && h) await cluster.announceHttp(`${h.host}:${h.port}`);
      gateways.start();
      started = true;
      logger.info({ event: 'vigil_started', addresses: this.addresses(), data_dir: dataDir }, 'vigil started');
    },
    stop() {
      stopping ??= (async () => {
        started = false;
        logger.info({ event: 'vigil_stopping' }, 'vigil stopping');
        gateways.stop();
        await Promise.allSettled(services.map((s) => s.stop()));
        await http.close();
        await cluster?.stop();
        presence.stop();
        liveness.stop();
        store.close();
        logger.info({ event: 'vigil_stopped' }, 'vigil stopped');
      })();
      return stopping;
    },
    addresses() {
      const out: Record<string, { host: string; port: number } | null> = {};
      for (const s of services) out[s.name] = s.address();
      const a = http.server.address();
      out.http = a && typeof a === 'object' ? { host: a.address, port: a.port } : null;
      return out;
    },
  };
}
