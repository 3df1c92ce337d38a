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
