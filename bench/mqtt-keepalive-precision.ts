/**
 * MQTT keepalive precision on real sockets and real time: N silent clients connect with Keep Alive
 * 2 s and then send nothing; the broker must close each one 1.5 x 2 = 3 s after its last packet
 * [MQTT-3.1.2-24]. We measure, per client, the time from writing its last packet (CONNECT) to the
 * end of its socket, on the client side of a loopback connection, for Vigil (MQTT service + the
 * liveness core, composed as in app.ts) and for Aedes in the same run. Goal: 3.00 to 3.05 s.
 *
 * Usage: npm run bench -- mqtt-keepalive [--n 50] [--keepalive 2] [--v5]
 */
import { createServer, connect as tcpConnect, type AddressInfo, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { generate, parser as makeParser } from 'mqtt-packet';
import { pino } from 'pino';
import { validate } from '../src/config/dsl.js';
import { rootSchema } from '../src/config/schema/root.js';
import { PasswordChecker } from '../src/auth/password-cache.js';
import { createLivenessRegistry } from '../src/liveness/registry.js';
import { createMetrics } from '../src/metrics.js';
import type { MqttDeps } from '../src/mqtt/broker.js';
import { createMqttService } from '../src/mqtt/listener.js';
import { createPresenceTable } from '../src/presence/table.js';
import { createMemoryStore } from '../src/store/memory.js';
import { systemClock } from '../src/time/clock.js';
import { systemScheduler } from '../src/time/scheduler.js';

export const describe = 'time from a silent client\'s last packet to its disconnection (Keep Alive 2 s, goal 3.00-3.05 s): Vigil vs Aedes';

function option(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

interface Broker {
  name: string;
  port: number;
  stop(): Promise<void>;
}

async function startVigil(): Promise<Broker> {
  const config = validate(rootSchema, {
    listeners: { mqtt: { host: '127.0.0.1', port: 0, max_conn_rate: 0 } },
    hosts: { 'bench.example': { mqtt: { allow_anonymous: true } } },
  });
  const h = config.hosts['bench.example']!;
  const liveness = createLivenessRegistry({
    clock: systemClock,
    scheduler: systemScheduler,
    hosts: { 'bench.example': { ...h.ping, mqtt_probe: h.mqtt_probe, xmpp_probe: h.xmpp_probe } },
  });
  const presence = createPresenceTable({ clock: systemClock, scheduler: systemScheduler, liveness, feedSize: 10_000, offlineTtlMs: 60_000, maxOffline: 10_000 });
  const store = createMemoryStore();
  const deps: MqttDeps = {
    config,
    dataDir: '/nonexistent',
    clock: systemClock,
    scheduler: systemScheduler,
    logger: pino({ level: 'silent' }),
    store,
    liveness,
    presence,
    metrics: createMetrics(),
    passwords: new PasswordChecker(store),
  };
  const service = createMqttService(deps);
  await service.start();
  return {
    name: 'Vigil',
    port: service.address()!.port,
    stop: async () => {
      await service.stop();
      liveness.stop();
      presence.stop();
    },
  };
}

async function startAedes(): Promise<Broker> {
  const { Aedes } = (await import('aedes')) as unknown as { Aedes: { createBroker(): Promise<{ handle: (s: Socket) => void; close(cb: () => void): void }> } };
  const aedes = await Aedes.createBroker();
  const server: Server = createServer((s) => aedes.handle(s));
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return {
    name: 'Aedes',
    port: (server.address() as AddressInfo).port,
    stop: () =>
      new Promise<void>((res) => {
        server.close();
        aedes.close(() => res());
      }),
  };
}

/** One silent client: resolves with ms from its CONNECT write to the end of its socket. */
function silentClient(port: number, id: string, keepalive: number, version: 4 | 5): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = tcpConnect({ port, host: '127.0.0.1', noDelay: true });
    const parser = makeParser({ protocolVersion: version });
    let sentAt = 0;
    let acked = false;
    parser.on('packet', (p) => {
      if (p.cmd === 'connack') acked = true;
    });
    sock.on('data', (b) => parser.parse(b));
    sock.once('connect', () => {
      const buf = generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: version, clientId: id, clean: true, keepalive }, { protocolVersion: version });
      sock.write(buf, () => (sentAt = performance.now()));
    });
    const done = () => {
      if (!acked) return reject(new Error(`${id}: closed without CONNACK`));
      resolve(performance.now() - sentAt);
    };
    sock.once('close', done);
    sock.once('error', () => undefined);
  });
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function measure(broker: Broker, n: number, keepalive: number, version: 4 | 5): Promise<number[]> {
  const runs: Promise<number>[] = [];
  for (let i = 0; i < n; i++) {
    runs.push(silentClient(broker.port, `silent-${i}`, keepalive, version));
    await new Promise((r) => setTimeout(r, 7)); // spread the deadlines
  }
  return (await Promise.all(runs)).sort((a, b) => a - b);
}

export async function run(args: string[]): Promise<void> {
  const n = option(args, '--n', 50);
  const keepalive = option(args, '--keepalive', 2);
  const version = args.includes('--v5') ? 5 : 4;
  const goal = keepalive * 1.5;
  console.log(`${n} silent clients, MQTT ${version === 5 ? '5.0' : '3.1.1'}, Keep Alive ${keepalive} s: seconds from the last packet to the close (goal ${goal.toFixed(2)}-${(goal + 0.05).toFixed(2)})\n`);
  console.log('| broker | min | median | p95 | max | within goal |');
  console.log('|---|---|---|---|---|---|');
  for (const start of [startVigil, startAedes]) {
    let broker: Broker;
    try {
      broker = await start();
    } catch (err) {
      console.log(`| ${start.name} | not available: ${(err as Error).message} |`);
      continue;
    }
    try {
      const ms = await measure(broker, n, keepalive, broker.name === 'Aedes' ? 4 : version);
      const s = ms.map((x) => x / 1000);
      const within = s.filter((x) => x >= goal && x <= goal + 0.05).length;
      const f = (x: number) => x.toFixed(3);
      console.log(`| ${broker.name} | ${f(s[0]!)} | ${f(pct(s, 50))} | ${f(pct(s, 95))} | ${f(s[s.length - 1]!)} | ${within}/${s.length} |`);
    } finally {
      await broker.stop();
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run(process.argv.slice(2));
