/**
 * Packet-level test harness: the MQTT service on in-memory duplexes, with the real liveness
 * registry and presence table on a ManualScheduler, a memory store and a test client that speaks
 * mqtt-packet. No sleeps: `settle()` lets the stream callbacks run, `advance(ms)` moves time.
 */
import { generate, parser as makeParser, type Packet } from 'mqtt-packet';
import { pino } from 'pino';
import { makeUserRecord } from '../../src/auth/users.js';
import { validate } from '../../src/config/dsl.js';
import { rootSchema } from '../../src/config/schema/root.js';
import { PasswordChecker } from '../../src/auth/password-cache.js';
import { createLivenessRegistry } from '../../src/liveness/registry.js';
import type { LivenessEvent, LivenessHostConfig } from '../../src/liveness/types.js';
import { createMetrics } from '../../src/metrics.js';
import type { MqttDeps } from '../../src/mqtt/broker.js';
import { createMqttService, type MqttService } from '../../src/mqtt/listener.js';
import type { SeamFactory } from '../../src/mqtt/seams.js';
import { createPresenceTable } from '../../src/presence/table.js';
import { createMemoryStore } from '../../src/store/memory.js';
import type { Store } from '../../src/store/types.js';
import { systemClock, type Clock } from '../../src/time/clock.js';
import { ManualScheduler } from '../../src/time/manual.js';
import { systemScheduler, type Scheduler } from '../../src/time/scheduler.js';
import { duplexPair } from '../support/duplex-pair.js';
import { until } from '../support/until.js';

export const HOST = 'example.org';
export const OTHER = 'other.org';

/** Let queued stream callbacks run (no wall-clock wait). */
export const settle = async (rounds = 4) => {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
};


export interface RigOptions {
  mqtt?: Record<string, unknown>;
  otherMqtt?: Record<string, unknown>;
  ping?: Partial<LivenessHostConfig>;
  /** Real clock and timers (end-to-end tests on real sockets). */
  realTime?: boolean;
  /** Default: a fresh memory store. */
  store?: Store;
  /** Start from this manual clock time (restart tests). */
  startAt?: number;
  /** The broker's per host parts (src/mqtt/seams.ts); default the single-node ones. */
  seams?: (deps: MqttDeps) => SeamFactory;
}

export function rig(opts: RigOptions = {}) {
  const manual = new ManualScheduler();
  const scheduler: Scheduler = opts.realTime ? systemScheduler : manual;
  const clock: Clock = opts.realTime ? systemClock : manual.clock;
  const config = validate(rootSchema, {
    listeners: { mqtt: { host: '127.0.0.1', port: 0 } },
    hosts: {
      // The failed-auth delay has its own test (test/robustness/limits-mqtt.test.ts).
      [HOST]: { mqtt: { allow_anonymous: true, auth_failure_delay_ms: 0, ...opts.mqtt } },
      [OTHER]: { mqtt: { auth_failure_delay_ms: 0, ...opts.otherMqtt } },
    },
  });
  const hostCfg = (h: string): LivenessHostConfig => ({ ...config.hosts[h]!.ping, mqtt_probe: config.hosts[h]!.mqtt_probe, xmpp_probe: config.hosts[h]!.xmpp_probe, ...opts.ping });
  // touch() reads the time once per event-loop turn, as in production (src/app.ts).
  const liveness = createLivenessRegistry({ clock, scheduler, hosts: { [HOST]: hostCfg(HOST), [OTHER]: hostCfg(OTHER) }, activityTime: 'turn' });
  const events: LivenessEvent[] = [];
  liveness.subscribe((e) => events.push(e));
  const presence = createPresenceTable({ clock, scheduler, liveness, feedSize: 1000, offlineTtlMs: 3_600_000, maxOffline: 1000 });
  const store = opts.store ?? createMemoryStore();
  if (opts.startAt !== undefined) manual.clock.set(opts.startAt);
  const metrics = createMetrics();
  const deps: MqttDeps = { config, dataDir: '/nonexistent', clock, scheduler, logger: pino({ level: 'silent' }), store, liveness, presence, metrics, passwords: new PasswordChecker(store) };
  const service: MqttService = createMqttService(deps, opts.seams?.(deps));
  const addUser = (host: string, user: string, password: string) => store.users.put(makeUserRecord(host, user, password, clock, 64));
  return {
    deps,
    scheduler: manual,
    clock,
    liveness,
    presence,
    store,
    events,
    service,
    addUser,
    /** Advance the manual clock, firing timers, then let streams settle. */
    async advance(ms: number) {
      manual.advance(ms);
      await settle();
    },
    client(version: 3 | 4 | 5 = 4, ip = '10.0.0.1') {
      return new TestClient(service, version, ip);
    },
  };
}

export class TestClient {
  readonly received: Packet[] = [];
  /** The bytes received, as read (tests of the encoding itself). */
  readonly bytes: Buffer[] = [];
  closed = false;
  private readonly side;
  private readonly parser;

  constructor(service: MqttService, readonly version: 3 | 4 | 5, ip: string) {
    const [server, client] = duplexPair();
    service.handle(server, ip);
    this.side = client;
    this.parser = makeParser({ protocolVersion: version });
    this.parser.on('packet', (p: Packet) => this.received.push(p));
    client.on('data', (b: Buffer) => {
      this.bytes.push(b);
      this.parser.parse(b);
    });
    client.on('end', () => (this.closed = true));
    client.on('close', () => (this.closed = true));
  }

  send(p: Packet): void {
    this.raw(generate(p, { protocolVersion: this.version }));
  }

  raw(buf: Buffer): void {
    this.side.write(buf);
  }

  /** Stop reading (a slow client): the server's socket buffer fills up. */
  pause(): void {
    this.side.pause();
  }

  /** Abrupt network close (no DISCONNECT). */
  drop(): void {
    this.side.destroy();
  }

  async connect(extra: Partial<Extract<Packet, { cmd: 'connect' }>> = {}, clientId = 'c1') {
    this.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: this.version, clientId, clean: true, keepalive: 60, ...extra } as Packet);
    await settle();
    // A password may be checked on the libuv pool (cache miss): wait for the answer or the close.
    if (extra.password !== undefined) await until(() => this.closed || this.received.some((p) => p.cmd === 'connack'));
    return this.take('connack');
  }

  /** Remove and return received packets of one type. */
  take<C extends Packet['cmd']>(cmd: C): Extract<Packet, { cmd: C }>[] {
    const out: Extract<Packet, { cmd: C }>[] = [];
    for (let i = 0; i < this.received.length; ) {
      const p = this.received[i]!;
      if (p.cmd === cmd) {
        out.push(p as Extract<Packet, { cmd: C }>);
        this.received.splice(i, 1);
      } else i++;
    }
    return out;
  }
}
