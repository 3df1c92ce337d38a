/**
 * One in-process Vigil for the robustness suites: the real XMPP engine and MQTT service sharing
 * one liveness registry, presence table, memory store and metrics, on manual time, with pino
 * output captured (error records are findings: they are the "internal error, connection closed"
 * safety nets of both adapters firing). Clients connect over in-memory duplex pairs.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { PasswordChecker } from '../../src/auth/password-cache.js';
import { makeUserRecord } from '../../src/auth/users.js';
import { validate } from '../../src/config/dsl.js';
import { rootSchema } from '../../src/config/schema/root.js';
import type { CoreDeps } from '../../src/deps.js';
import { fileHostSettings } from '../../src/host-settings.js';
import { createLivenessRegistry } from '../../src/liveness/registry.js';
import { createMetrics } from '../../src/metrics.js';
import { createMqttService, type MqttService } from '../../src/mqtt/listener.js';
import { mqttWsFraming } from '../../src/mqtt/ws-framing.js';
import type { WsFraming } from '../../src/transport/ws-connection.js';
import { xmppWsFraming } from '../../src/xmpp/ws-framing.js';
import { createPresenceTable } from '../../src/presence/table.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { ManualScheduler } from '../../src/time/manual.js';
import { type XmppDeps, type XmppEngine, createXmppEngine } from '../../src/xmpp/engine.js';
import { FUZZ_DOMAIN } from './xml-cases.js';

export interface LogRecord {
  level: number;
  event?: string;
  msg?: string;
  [k: string]: unknown;
}

export interface WorldOptions {
  /** Per host overrides merged into the fuzz host's settings. */
  host?: { xmpp?: Record<string, unknown>; mqtt?: Record<string, unknown>; ping?: Record<string, unknown> };
  presence?: Record<string, unknown>;
  logLevel?: string;
  /** Keep every log line as text too (secrets-in-logs test). */
  keepRaw?: boolean;
}

export interface World {
  deps: XmppDeps;
  manual: ManualScheduler;
  xmpp: XmppEngine;
  mqtt: MqttService;
  /** The WebSocket framings the listeners would give each protocol (issue 14). */
  wsFraming: Record<'xmpp' | 'mqtt', WsFraming>;
  /** Parsed log records at error level and above. */
  errors: LogRecord[];
  /** Every log line (only with keepRaw). */
  raw: string[];
  advance(ms: number): Promise<void>;
  stop(): void;
}

/** Let queued stream callbacks run (no wall-clock wait). */
export async function settle(rounds = 6): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

export const USERS: ReadonlyArray<[string, string]> = [['fuzzer', 'fuzzpw'], ['control-a', 'pw-a'], ['control-b', 'pw-b']];

export function makeWorld(opts: WorldOptions = {}): World {
  const manual = new ManualScheduler();
  const clock = manual.clock;
  const h = opts.host ?? {};
  const config = validate(rootSchema, {
    data_dir: '/nonexistent-vigil-fuzz',
    // The listener-wide rate (max_conn_rate) runs on the manual clock here: off, the fuzz and the
    // churn open thousands of connections per manual second (test/transport/gate.test.ts has it).
    listeners: { xmpp: { max_conn_rate: 0 }, mqtt: { max_conn_rate: 0 } },
    hosts: {
      [FUZZ_DOMAIN]: {
        ping: { ping_interval: 10, ping_ack_timeout: 5, ...(h.ping ?? {}) },
        // A short failed-auth delay: exercised, yet over (16 x 100 ms) within the fuzz's wait.
        xmpp: { tls: 'off', allow_plaintext_auth: true, handshake_timeout: 2, max_connections_per_ip: 0, max_connection_rate_per_ip: 0, auth_failure_delay_ms: 100, ...(h.xmpp ?? {}) },
        mqtt: { allow_anonymous: true, connect_timeout: 2, auth_failure_delay_ms: 100, ...(h.mqtt ?? {}) },
      },
    },
    presence: { feed_size: 1000, offline_ttl: 60, max_offline: 1000, ...(opts.presence ?? {}) },
  });
  const errors: LogRecord[] = [];
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const line = chunk.toString();
      if (opts.keepRaw) raw.push(line);
      if (/"level":(5|6)\d/.test(line)) {
        for (const l of line.split('\n')) if (l.trim()) errors.push(JSON.parse(l) as LogRecord);
      }
      cb();
    },
  });
  const logger = pino({ level: opts.logLevel ?? 'info' }, sink);
  const store = createMemoryStore();
  // Few PBKDF2 rounds keep the fuzz fast; the production count (>= 4096) has its own test.
  for (const [u, p] of USERS) store.users.put(makeUserRecord(FUZZ_DOMAIN, u, p, clock, 64));
  const liveness = createLivenessRegistry({ clock, scheduler: manual, hosts: fileHostSettings(config), activityTime: 'turn' });
  const presence = createPresenceTable({
    clock,
    scheduler: manual,
    liveness,
    feedSize: config.presence.feed_size,
    offlineTtlMs: config.presence.offline_ttl * 1000,
    maxOffline: config.presence.max_offline,
  });
  // One password cache for both protocols, as the composition root builds it.
  const passwords = new PasswordChecker(store);
  const deps = { config, dataDir: config.data_dir, clock, scheduler: manual, logger, store, liveness, presence, metrics: createMetrics(), passwords } satisfies CoreDeps;
  let n = 0;
  const xmpp = createXmppEngine(deps, { random: () => `r${++n}`, closeGraceMs: 500 });
  const mqtt = createMqttService(deps);
  return {
    deps,
    manual,
    xmpp,
    mqtt,
    wsFraming: { xmpp: xmppWsFraming(config.hosts[FUZZ_DOMAIN]!.xmpp.max_stanza_size), mqtt: mqttWsFraming(config.hosts[FUZZ_DOMAIN]!.mqtt.max_packet_size) },
    errors,
    raw,
    async advance(ms) {
      // In steps, so that effects of one timer (a close, then its grace timer) run in between.
      for (let left = ms; left > 0; left -= 250) {
        manual.advance(Math.min(250, left));
        await settle(2);
      }
    },
    stop() {
      xmpp.shutdown();
      mqtt.broker.shutdown();
      presence.stop();
      liveness.stop();
    },
  };
}
