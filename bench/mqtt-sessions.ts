/**
 * MQTT QoS 1 throughput with persistent sessions (the durable path: every queued or inflight
 * message of a persistent session is written to SQLite, and PUBACK waits for the commit) vs clean
 * sessions (memory only), in one run. The MQTT service runs in this process on a SQLite store in a
 * temp dir, on a real socket (127.0.0.1); clients are raw mqtt-packet over loopback. The publisher
 * keeps `--window` QoS 1 messages awaiting PUBACK; the subscriber acknowledges each delivery.
 *   online clean       subscriber clean session 1, online
 *   online persistent  subscriber clean session 0, online (inflight rows written and deleted)
 *   offline persistent subscriber away: publish into its queue (durable), then reconnect and drain
 *
 * Usage: npm run bench -- mqtt-sessions [--msgs 20000] [--window 100]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcp, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { generate, parser as makeParser, type Packet } from 'mqtt-packet';
import { openStore } from '../src/store/index.js';
import { rig } from '../test/mqtt/harness.js';

export const describe = 'MQTT QoS 1 throughput: persistent sessions (durable SQLite path) vs clean sessions';

function option(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

interface Client {
  sock: Socket;
  on(cmd: string, fn: (p: Packet) => void): void;
  send(p: Packet): void;
  close(): Promise<void>;
}

/** Connect; `setup` registers handlers before CONNECT (a resumed session sends right after CONNACK). */
function open(port: number, clientId: string, clean: boolean, setup?: (c: Client) => void): Promise<Client> {
  return new Promise((resolve, reject) => {
    const sock = tcp({ port, host: '127.0.0.1', noDelay: true });
    const parser = makeParser();
    const handlers = new Map<string, (p: Packet) => void>();
    const c: Client = {
      sock,
      on: (cmd, fn) => handlers.set(cmd, fn),
      send: (p) => sock.write(generate(p)),
      close: () =>
        new Promise((res) => {
          sock.once('close', () => res());
          sock.end(generate({ cmd: 'disconnect' }));
        }),
    };
    parser.on('packet', (p: Packet) => {
      if (p.cmd === 'connack') resolve(c);
      handlers.get(p.cmd)?.(p);
    });
    sock.on('data', (b) => parser.parse(b));
    sock.once('error', reject);
    setup?.(c);
    sock.write(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId, clean, keepalive: 600 }));
  });
}

async function subscribe(c: Client, topic: string): Promise<void> {
  await new Promise<void>((res) => {
    c.on('suback', () => res());
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 1 }] });
  });
}

/** A subscriber that acknowledges each delivery; resolves after `n` deliveries. */
function receiver(c: Client, n: number): Promise<void> {
  let got = 0;
  return new Promise((res) => {
    c.on('publish', (p) => {
      c.send({ cmd: 'puback', messageId: p.messageId! });
      if (++got === n) res();
    });
  });
}

/** Publish `n` QoS 1 messages with up to `window` awaiting PUBACK; resolves on the last PUBACK. */
function publishAll(c: Client, topic: string, n: number, window: number): Promise<void> {
  const payload = Buffer.alloc(64, 0x61);
  let sent = 0;
  let acked = 0;
  return new Promise((res) => {
    const send = () => {
      sent++;
      c.send({ cmd: 'publish', topic, payload, qos: 1, messageId: (sent % 65_535) + 1, retain: false, dup: false });
    };
    c.on('puback', () => {
      if (++acked === n) return res();
      if (sent < n) send();
    });
    for (let i = 0; i < Math.min(window, n); i++) send();
  });
}

const rate = (n: number, ms: number) => `${Math.round((n / ms) * 1000).toLocaleString('en-US')} msg/s`;

export async function run(args: string[]): Promise<void> {
  const msgs = option(args, '--msgs', 20_000);
  const window = option(args, '--window', 100);
  const root = mkdtempSync(join(tmpdir(), 'vigil-bench-sessions-'));
  const r = rig({
    realTime: true,
    store: openStore('sqlite', join(root, 'data')),
    mqtt: { max_mqueue_len: msgs, max_connection_rate_per_ip: 0 },
  });
  await r.service.start();
  const port = r.service.address()!.port;
  const rows: [string, string, string][] = [];
  try {
    const pub = await open(port, 'bench-pub', true);
    for (const [label, clean] of [
      ['online clean', true],
      ['online persistent', false],
    ] as const) {
      const id = `bench-sub-${clean ? 'clean' : 'pers'}`;
      const topic = `bench/${id}`;
      const sub = await open(port, id, clean);
      await subscribe(sub, topic);
      const t0 = performance.now();
      await Promise.all([receiver(sub, msgs), publishAll(pub, topic, msgs, window)]);
      const ms = performance.now() - t0;
      rows.push([label, 'publish -> PUBACK + delivery -> PUBACK', rate(msgs, ms)]);
      await sub.close();
    }
    // Offline persistent: into the durable queue, then the drain on reconnect.
    const topic = 'bench/offline';
    const away = await open(port, 'bench-sub-off', false);
    await subscribe(away, topic);
    await away.close();
    let t0 = performance.now();
    await publishAll(pub, topic, msgs, window);
    rows.push(['offline persistent', 'publish -> PUBACK (queued, durable)', rate(msgs, performance.now() - t0)]);
    t0 = performance.now();
    let drained: Promise<void> = Promise.resolve();
    const back = await open(port, 'bench-sub-off', false, (c) => (drained = receiver(c, msgs)));
    await drained;
    rows.push(['offline persistent', 'reconnect -> queue drained (window 32)', rate(msgs, performance.now() - t0)]);
    await back.close();
    await pub.close();
  } finally {
    await r.service.stop();
    r.store.close();
    rmSync(root, { recursive: true, force: true });
  }
  console.log(`QoS 1, ${msgs} messages of 64 bytes, publisher window ${window}, SQLite store, one process\n`);
  console.log('| Subscriber session | Path | Throughput |\n|---|---|---|');
  for (const [a, b, c] of rows) console.log(`| ${a} | ${b} | ${c} |`);
}
