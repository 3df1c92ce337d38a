/**
 * createLivenessRegistry: the liveness core's entry point. Routes each call to its host's worker
 * (worker.ts), hands out globally increasing generations, and owns the listener list.
 *
 * A host that was never configured gets mod_ping's defaults (schema/ping.ts) with mqtt_probe
 * 'keepalive' on first use, so tracking never fails on an unknown host.
 */
import { defaults } from '../config/dsl.js';
import { pingSchema } from '../config/schema/ping.js';
import type { Clock } from '../time/clock.js';
import type { Scheduler } from '../time/scheduler.js';
import { EventHub } from './event-hub.js';
import { TimeSource, type ActivityTime } from './time-source.js';
import type {
  EndpointKey,
  EndpointMeta,
  LivenessAdapter,
  LivenessHandle,
  LivenessHostConfig,
  LivenessListener,
  LivenessRegistry,
  TrackOptions,
  Transport,
} from './types.js';
import { HostWorker } from './worker.js';

export interface LivenessDeps {
  clock: Clock;
  scheduler: Scheduler;
  hosts: Record<string, LivenessHostConfig>;
  /**
   * How touch() reads the time: 'exact' (default) reads the clock on every touch; 'turn' reads it
   * once per event-loop turn, the production choice (see time-source.ts and docs/benchmarks.md).
   */
  activityTime?: ActivityTime;
}

export function defaultHostConfig(): LivenessHostConfig {
  return { ...defaults(pingSchema), mqtt_probe: 'keepalive', xmpp_probe: 'iq' };
}

export function createLivenessRegistry(deps: LivenessDeps): LivenessRegistry {
  const time = new TimeSource(deps.clock, deps.activityTime ?? 'exact');
  const hub = new EventHub();
  const workers = new Map<string, HostWorker>();
  let generation = 0;

  const workerFor = (host: string): HostWorker => {
    let w = workers.get(host);
    if (!w) {
      w = new HostWorker(host, defaultHostConfig(), time, deps.scheduler, hub);
      workers.set(host, w);
    }
    return w;
  };
  for (const [host, config] of Object.entries(deps.hosts)) {
    workers.set(host, new HostWorker(host, { ...config }, time, deps.scheduler, hub));
  }

  return {
    track(key: EndpointKey, adapter: LivenessAdapter, opts: TrackOptions, meta?: EndpointMeta): LivenessHandle {
      return workerFor(key.host).track(key, adapter, opts, ++generation, meta ?? null);
    },
    get(key: EndpointKey): LivenessHandle | undefined {
      return workers.get(key.host)?.get(key.transport, key.id);
    },
    list(host: string, transport?: Transport): Iterable<LivenessHandle> {
      return workers.get(host)?.list(transport) ?? [];
    },
    size(host?: string): number {
      if (host !== undefined) return workers.get(host)?.size ?? 0;
      let n = 0;
      for (const w of workers.values()) n += w.size;
      return n;
    },
    hosts: () => [...workers.keys()],
    hostConfig: (host) => workers.get(host)?.config,
    setHostConfig(host: string, patch: Partial<LivenessHostConfig>): LivenessHostConfig {
      const w = workerFor(host);
      const config: LivenessHostConfig = { ...w.config, ...patch };
      w.reconfigure(config);
      return config;
    },
    subscribe: (listener: LivenessListener) => hub.subscribe(listener),
    stop(): void {
      for (const w of workers.values()) w.stop();
    },
  };
}
