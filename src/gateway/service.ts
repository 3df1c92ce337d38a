/**
 * Gateway mode's part in the composition root: one Gateway per `gateways.<name>` of the config,
 * started after the listeners (webhooks arrive through the HTTP one) and stopped before them.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import type { Metrics } from '../metrics.js';
import type { PresenceIngest } from '../presence/ingest.js';
import type { Clock } from '../time/clock.js';
import type { Scheduler } from '../time/scheduler.js';
import { Gateway } from './gateway.js';
import { gatewayCounters } from './gateway-metrics.js';

/** What the REST API reads and acts through. */
export interface Gateways {
  get(name: string): Gateway | undefined;
  list(): Gateway[];
}

export interface GatewayService extends Gateways {
  start(): void;
  stop(): void;
}

export function createGatewayService(deps: {
  config: Pick<Config, 'gateways'>;
  ingest: PresenceIngest;
  clock: Clock;
  scheduler: Scheduler;
  logger: Logger;
  metrics: Metrics;
}): GatewayService {
  const counters = gatewayCounters(deps.metrics);
  const all = new Map<string, Gateway>();
  for (const [name, config] of Object.entries(deps.config.gateways)) {
    const logger = deps.logger.child({ gateway: name });
    warnPlaintext(logger, config);
    all.set(name, new Gateway({ name, config, ingest: deps.ingest, clock: deps.clock, scheduler: deps.scheduler, logger, counters }));
  }
  return {
    get: (name) => all.get(name),
    list: () => [...all.values()],
    start() {
      for (const g of all.values()) g.start();
    },
    stop() {
      for (const g of all.values()) g.stop();
    },
  };
}

const LOOPBACK = /^(mqtt|http):\/\/(localhost|127\.[0-9.]+|\[::1\])(:|\/|$)/;

/** Credentials over a non-TLS connection to another machine: allowed (configured), but said once at start. */
function warnPlaintext(logger: Logger, c: Config['gateways'][string]): void {
  const plain = (url: string | null, creds: boolean) => url !== null && creds && !/^(mqtts|https):/.test(url) && !LOOPBACK.test(url);
  if (plain(c.mqtt.url, c.mqtt.password !== null)) {
    logger.warn({ event: 'gateway_plaintext_credentials', channel: 'mqtt' }, 'the watcher sends its password without TLS (use mqtts://)');
  }
  if (plain(c.api.url, c.api.token !== null || c.api.password !== null)) {
    logger.warn({ event: 'gateway_plaintext_credentials', channel: 'api' }, 'API credentials go without TLS (use https://)');
  }
}
