/**
 * Test rig for the XMPP adapter: CoreDeps with a memory store, the real liveness registry and
 * presence table, and either manual time (unit tests) or real time (end-to-end tests).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { makeUserRecord } from '../../src/auth/users.js';
import { validate } from '../../src/config/dsl.js';
import { rootSchema } from '../../src/config/schema/root.js';
import { PasswordChecker } from '../../src/auth/password-cache.js';
import { type HostSettingsTable, createLocalHostSettings } from '../../src/host-settings.js';
import { createLivenessRegistry } from '../../src/liveness/registry.js';
import type { LivenessEvent } from '../../src/liveness/types.js';
import { createMetrics } from '../../src/metrics.js';
import { createPresenceTable } from '../../src/presence/table.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { systemClock, type Clock } from '../../src/time/clock.js';
import { ManualScheduler } from '../../src/time/manual.js';
import { systemScheduler, type Scheduler } from '../../src/time/scheduler.js';
import type { XmppDeps } from '../../src/xmpp/engine.js';

export const DOMAIN = 'example.org';

export interface RigOptions {
  /** Per host settings for DOMAIN (ping, xmpp). */
  host?: Record<string, unknown>;
  /** Extra hosts. */
  hosts?: Record<string, Record<string, unknown>>;
  users?: Array<[string, string]>;
  realTime?: boolean;
  port?: number;
}

export interface Rig {
  deps: XmppDeps & { hostSettings: HostSettingsTable };
  scheduler: Scheduler;
  manual: ManualScheduler | null;
  events: LivenessEvent[];
}

export function makeRig(opts: RigOptions = {}): Rig {
  const manual = opts.realTime ? null : new ManualScheduler();
  const clock: Clock = manual ? manual.clock : systemClock;
  const scheduler: Scheduler = manual ?? systemScheduler;
  const config = validate(rootSchema, {
    data_dir: mkdtempSync(join(tmpdir(), 'vigil-xmpp-')),
    listeners: { xmpp: { host: '127.0.0.1', port: opts.port ?? 0 } },
    hosts: { [DOMAIN]: opts.host ?? {}, ...(opts.hosts ?? {}) },
  });
  const store = createMemoryStore();
  for (const [user, password] of opts.users ?? [['alice', 'secret'], ['bob', 'hunter2']]) {
    store.users.put(makeUserRecord(DOMAIN, user, password, clock, 4096));
  }
  // touch() reads the time once per event-loop turn, as in production (src/app.ts): every stanza
  // arrives in its own turn here too, and advance() runs between turns.
  const logger = pino({ level: process.env.VIGIL_TEST_LOG ?? 'silent' });
  // The host settings table as the app wires it: tests change settings at runtime through it.
  const hostSettings = createLocalHostSettings({ config, overrides: store.hostConfig, logger });
  const liveness = createLivenessRegistry({ clock, scheduler, hosts: hostSettings.all(), activityTime: 'turn' });
  hostSettings.subscribe((host, settings) => liveness.setHostConfig(host, settings));
  const events: LivenessEvent[] = [];
  liveness.subscribe((e) => events.push(e));
  const presence = createPresenceTable({ clock, scheduler, liveness, feedSize: 1000, offlineTtlMs: 3_600_000, maxOffline: 1000 });
  const deps = {
    config,
    dataDir: config.data_dir,
    clock,
    scheduler,
    logger,
    hostSettings,
    store,
    liveness,
    presence,
    metrics: createMetrics(),
    passwords: new PasswordChecker(store),
  } satisfies XmppDeps;
  return { deps, scheduler, manual, events };
}
