/**
 * MQTT broker costs, Vigil vs Aedes in one run, each broker alone in a child process
 * (bench/mqtt-broker-child.ts) and the clients (raw mqtt-packet over loopback) in this one:
 *   - memory per idle connection (RSS and JS heap + external of the broker, after gc, / N),
 *   - broker CPU per CONNECT (anonymous, MQTT 3.1.1) and per PINGREQ -> PINGRESP,
 *   - QoS 0 and QoS 1 fan-out: 1 publisher -> S subscribers of `fan/#`, deliveries/s and broker CPU
 *     per delivery. The publisher writes 20 messages per event-loop turn, so a broker that batches
 *     the writes of one turn per socket profits (Vigil corks each socket for the tick).
 *
 * Usage: npm run bench -- mqtt-broker [--n 2000] [--subs 500] [--msgs 400]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { connect as tcp, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { generate, parser as makeParser, type Packet } from 'mqtt-packet';

export const describe = 'broker memory per idle connection, CPU per CONNECT and PINGREQ, QoS 0/1 fan-out: Vigil vs Aedes';

function option(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

interface Sample {
  cpuUs: number;
  rss: number;
  heap: number;
}

class Child {
  private constructor(private readonly proc: ChildProcess, readonly port: number) {}

  static async start(which: string): Promise<Child> {
    const proc = fork(new URL('./mqtt-broker-child.ts', import.meta.url).pathname, [which], {
      execArgv: ['--expose-gc', '--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const port = await new Promise<number>((res, rej) => {
      proc.once('message', (m) => res((m as { port: number }).port));
      proc.once('exit', (code) => rej(new Error(`${which} broker exited (${code})`)));
    });
    return new Child(proc, port);
  }

  mark(): void {
    this.proc.send('mark');
  }

  sample(): Promise<Sample> {
    return new Promise((res) => {
      this.proc.once('message', (m) => res(m as Sample));
      this.proc.send('sample');
    });
  }

  stop(): void {
    this.proc.kill();
  }
}

interface Client {
  sock: Socket;
  counts: Map<string, number>;
}

function open(port: number, clientId: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const sock = tcp({ port, host: '127.0.0.1', noDelay: true });
    const parser = makeParser();
    const counts = new Map<string, number>();
    const c: Client = { sock, counts };
    parser.on('packet', (p: Packet) => {
      counts.set(p.cmd, (counts.get(p.cmd) ?? 0) + 1);
      if (p.cmd === 'connack') resolve(c);
      if (p.cmd === 'publish' && p.qos === 1) sock.write(generate({ cmd: 'puback', messageId: p.messageId! }));
    });
    sock.on('data', (b) => parser.parse(b));
    sock.once('error', reject);
    sock.write(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId, clean: true, keepalive: 600 }));
  });
}

const count = (clients: Client[], cmd: string) => clients.reduce((n, c) => n + (c.counts.get(cmd) ?? 0), 0);
const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 2));
};

interface Row {
  broker: string;
  rssPerConn: number;
  heapPerConn: number;
  cpuConnectUs: number;
  cpuPingUs: number;
  qos0PerS: number;
  qos0CpuUs: number;
  qos1PerS: number;
  qos1CpuUs: number;
}

async function measure(which: string, n: number, subs: number, msgs: number): Promise<Row> {
  const child = await Child.start(which);
  const port = child.port;
  // Warm-up connection, then the baseline.
  (await open(port, 'warm')).sock.destroy();
  await new Promise((r) => setTimeout(r, 200));
  const before = await child.sample();
  child.mark();
  const clients: Client[] = [];
  for (let i = 0; i < n; i += 100) {
    const batch = await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, k) => open(port, `idle-${i + k}`)));
    clients.push(...batch);
  }
  const afterConnect = await child.sample();
  await new Promise((r) => setTimeout(r, 300));
  const idle = await child.sample();

  child.mark();
  const rounds = 5;
  const ping = Buffer.from([0xc0, 0x00]);
  for (let r = 1; r <= rounds; r++) {
    for (const c of clients) c.sock.write(ping);
    await until(() => count(clients, 'pingresp') >= n * r);
  }
  const afterPing = await child.sample();

  const fan = async (qos: 0 | 1): Promise<[number, number]> => {
    const group = clients.slice(0, subs);
    for (const c of group) c.sock.write(generate({ cmd: 'subscribe', messageId: 1 + qos, subscriptions: [{ topic: `fan${qos}/#`, qos }] }));
    await until(() => count(group, 'suback') >= subs * (qos + 1));
    const pub = await open(port, `pub${qos}`);
    const start = count(group, 'publish');
    child.mark();
    const t0 = performance.now();
    for (let i = 0; i < msgs; i++) {
      pub.sock.write(generate({ cmd: 'publish', topic: `fan${qos}/x`, payload: Buffer.alloc(16), qos: 0, retain: false, dup: false }));
      if (i % 20 === 19) await new Promise((r) => setImmediate(r));
    }
    await until(() => count(group, 'publish') - start >= subs * msgs);
    const dt = (performance.now() - t0) / 1000;
    const s = await child.sample();
    pub.sock.destroy();
    return [Math.round((subs * msgs) / dt), s.cpuUs / (subs * msgs)];
  };
  const [qos0PerS, qos0CpuUs] = await fan(0);
  const [qos1PerS, qos1CpuUs] = await fan(1);
  for (const c of clients) c.sock.destroy();
  child.stop();
  return {
    broker: which === 'aedes' ? 'Aedes' : 'Vigil',
    rssPerConn: (idle.rss - before.rss) / n,
    heapPerConn: (idle.heap - before.heap) / n,
    cpuConnectUs: afterConnect.cpuUs / n,
    cpuPingUs: afterPing.cpuUs / (n * rounds),
    qos0PerS,
    qos0CpuUs,
    qos1PerS,
    qos1CpuUs,
  };
}

export async function run(args: string[]): Promise<void> {
  const n = option(args, '--n', 2000);
  const subs = Math.min(n, option(args, '--subs', 500));
  const msgs = option(args, '--msgs', 400);
  console.log(`${n} idle MQTT 3.1.1 connections (Keep Alive 600 s), ${subs} subscribers x ${msgs} messages of 16 bytes per fan-out\n`);
  console.log('| broker | RSS/conn (bytes) | heap/conn (bytes) | CPU/CONNECT (us) | CPU/PINGREQ (us) | QoS 0 deliveries/s | CPU/delivery QoS 0 (us) | QoS 1 deliveries/s | CPU/delivery QoS 1 (us) |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const which of ['vigil', 'aedes']) {
    const r = await measure(which, n, subs, msgs);
    const f = (x: number, d = 0) => x.toFixed(d);
    console.log(`| ${r.broker} | ${f(r.rssPerConn)} | ${f(r.heapPerConn)} | ${f(r.cpuConnectUs)} | ${f(r.cpuPingUs, 1)} | ${r.qos0PerS} | ${f(r.qos0CpuUs, 2)} | ${r.qos1PerS} | ${f(r.qos1CpuUs, 2)} |`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run(process.argv.slice(2));
