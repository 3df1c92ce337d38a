/**
 * The REST benchmarks' server: the real HTTP app over the real liveness registry and presence
 * table with `n` endpoints tracked (even i: XMPP `user<i>@host/res`, available; odd i: MQTT
 * `device-<i>` with client metadata), a no-op protocol adapter and a manual scheduler, so no
 * timer fires during a run: a quiet table that changes only when the benchmark changes it.
 */
import { pino } from 'pino';
import { validate } from '../src/config/dsl.js';
import { rootSchema } from '../src/config/schema/root.js';
import { createHttpApp } from '../src/http/app.js';
import { createLocalHostSettings } from '../src/host-settings.js';
import { createLivenessRegistry } from '../src/liveness/registry.js';
import type { LivenessAdapter, LivenessHandle } from '../src/liveness/types.js';
import { createMetrics } from '../src/metrics.js';
import { createPresenceTable } from '../src/presence/table.js';
import { createMemoryStore } from '../src/store/memory.js';
import { systemClock } from '../src/time/clock.js';
import { ManualScheduler } from '../src/time/manual.js';

/** A positive number option (`--n 1000`) of a scenario, or its default. */
export function option(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

export function restWorld(opts: { n: number; host: string; token: string }) {
  const { n, host, token } = opts;
  const config = validate(rootSchema, { hosts: { [host]: {} }, api: { token } });
  const scheduler = new ManualScheduler();
  const store = createMemoryStore();
  const logger = pino({ level: 'silent' });
  const hostSettings = createLocalHostSettings({ config, overrides: store.hostConfig, logger });
  const liveness = createLivenessRegistry({ clock: systemClock, scheduler, hosts: hostSettings.all() });
  const presence = createPresenceTable({
    clock: systemClock,
    scheduler,
    liveness,
    feedSize: config.presence.feed_size,
    offlineTtlMs: config.presence.offline_ttl * 1000,
    maxOffline: config.presence.max_offline,
  });
  const adapter: LivenessAdapter = { probe() {}, kill() {} };
  const handles: LivenessHandle[] = [];
  /** (Re)connect endpoint i. */
  const track = (i: number) => {
    const transport = i % 2 === 0 ? ('xmpp' as const) : ('mqtt' as const);
    const id = transport === 'xmpp' ? `user${i}@${host}/res` : `device-${i}`;
    const h = liveness.track({ host, transport, id }, adapter, { onIdle: transport === 'xmpp' ? 'probe' : 'expire' });
    if (transport === 'xmpp') presence.setAvailability(h.ref, { available: true, show: null, status: 'here', priority: 0 });
    else presence.setMeta(h.ref, { username: `u${i}`, protocol_level: 5, keepalive_s: 60 });
    handles[i] = h;
  };
  for (let i = 0; i < n; i++) track(i);
  const app = createHttpApp({
    config,
    dataDir: '/nonexistent',
    clock: systemClock,
    scheduler,
    logger,
    store,
    liveness,
    hostSettings,
    presence,
    metrics: createMetrics(),
    services: () => [],
    apiToken: token,
    ready: () => true,
  });
  return {
    app,
    handles,
    track,
    async close() {
      await app.close();
      presence.stop();
      liveness.stop();
    },
  };
}
