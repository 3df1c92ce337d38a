/**
 * REST test rig: the real liveness registry and presence table on a ManualScheduler, a memory
 * store, a fresh metrics registry and createHttpApp driven with inject(). Endpoints are connected
 * through a fake protocol adapter (no XMPP/MQTT code) that records probes and untracks on kill
 * like a real connection closing.
 */
import { pino } from 'pino';
import { validate } from '../../src/config/dsl.js';
import { rootSchema } from '../../src/config/schema/root.js';
import type { Config } from '../../src/config/types.js';
import type { Service } from '../../src/deps.js';
import { createGatewayService } from '../../src/gateway/service.js';
import { createHttpApp } from '../../src/http/app.js';
import { createLocalHostSettings } from '../../src/host-settings.js';
import { createLivenessRegistry } from '../../src/liveness/registry.js';
import type {
  DisconnectReason,
  EndpointKey,
  EndpointRef,
  LivenessAdapter,
  LivenessHandle,
  LivenessRegistry,
  TrackOptions,
  Transport,
  Via,
} from '../../src/liveness/types.js';
import { createMetrics } from '../../src/metrics.js';
import { createPresenceTable } from '../../src/presence/table.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { ManualScheduler } from '../../src/time/manual.js';

export const HOST = 'example.org';
export const TOKEN = 'test-token-0123456789';
export const AUTH = { authorization: `Bearer ${TOKEN}` };

export class FakeAdapter implements LivenessAdapter {
  probes: EndpointRef[] = [];
  kills: { ref: EndpointRef; reason: DisconnectReason }[] = [];
  unprobeable: string | null = null;
  constructor(
    private readonly registry: LivenessRegistry,
    readonly via: Via = 'tcp',
  ) {}
  probe(ep: EndpointRef): void {
    this.probes.push(ep);
  }
  kill(ep: EndpointRef, reason: DisconnectReason): void {
    this.kills.push({ ref: ep, reason });
    const h = this.registry.get(ep);
    if (h && h.ref.generation === ep.generation) h.untrack(reason);
  }
  canProbe(): true | string {
    return this.unprobeable ?? true;
  }
}

export function testConfig(raw: Record<string, unknown> = {}): Config {
  return validate(rootSchema, { hosts: { [HOST]: {} }, presence: { feed_size: 64 }, ...raw });
}

export function rig(opts: { config?: Config; ready?: boolean; services?: Service[] } = {}) {
  const config = opts.config ?? testConfig();
  const scheduler = new ManualScheduler();
  const clock = scheduler.clock;
  const store = createMemoryStore();
  const logger = pino({ level: 'silent' });
  const hostSettings = createLocalHostSettings({ config, overrides: store.hostConfig, logger });
  const liveness = createLivenessRegistry({ clock, scheduler, hosts: hostSettings.all() });
  hostSettings.subscribe((host, settings) => liveness.setHostConfig(host, settings));
  const presence = createPresenceTable({
    clock,
    scheduler,
    liveness,
    feedSize: config.presence.feed_size,
    offlineTtlMs: config.presence.offline_ttl * 1000,
    maxOffline: config.presence.max_offline,
  });
  const metrics = createMetrics();
  let ready = opts.ready ?? true;
  const adapter = new FakeAdapter(liveness);
  const gateways = createGatewayService({ config, ingest: presence, clock, scheduler, logger, metrics });
  const app = createHttpApp({
    config,
    dataDir: '/nonexistent',
    clock,
    scheduler,
    logger,
    store,
    liveness,
    hostSettings,
    presence,
    metrics,
    services: () => opts.services ?? [],
    apiToken: TOKEN,
    ready: () => ready,
    gateways,
  });

  /** Other network transports than tcp: one adapter each (kills and probes are recorded on the tcp one only). */
  const viaAdapters = new Map<Via, FakeAdapter>([['tcp', adapter]]);
  function connect(transport: Transport, id: string, track: TrackOptions = { onIdle: 'probe' }, host = HOST, via: Via = 'tcp'): LivenessHandle {
    const key: EndpointKey = { host, transport, id };
    let a = viaAdapters.get(via);
    if (!a) viaAdapters.set(via, (a = new FakeAdapter(liveness, via)));
    return liveness.track(key, a, track);
  }

  return {
    app,
    config,
    scheduler,
    clock,
    liveness,
    hostSettings,
    presence,
    store,
    metrics,
    adapter,
    gateways,
    connect,
    setReady: (v: boolean) => {
      ready = v;
    },
    async close() {
      gateways.stop();
      await app.close();
      presence.stop();
      liveness.stop();
    },
  };
}

export type Rig = ReturnType<typeof rig>;
