/**
 * `npm run bench -- cluster [--quick] [--n N] [--mqtt-only | --no-mqtt] [--only=vigil,single,workers,aedes,mosquitto]`:
 * cluster mode on Redis (issues 15 and 16), against one node without Redis, in one run:
 *   - connects per second and server CPU per connect (Vigil processes + redis-server, from /proc)
 *     for 1 node without Redis, 1 node with Redis, 2 nodes with Redis (clients spread over both);
 *   - p50/p99 from an MQTT CONNECT sent to node A to the `online` event read on node B (SSE);
 *   - takeover across nodes: CONNECT of a live client id on node B -> the old socket closed on A.
 *   - MQTT across nodes (cluster-mqtt.ts): messages/s and CPU per delivered message, cross-node,
 *     --workers 2, Aedes in its Redis cluster mode and Mosquitto side by side.
 * Vigil nodes are spawned processes (tsx), each with its own listeners; the clients are raw MQTT
 * 3.1.1 sockets in this process (a CONNECT packet, wait for CONNACK), so the generator's CPU is not
 * counted. The target (issue 15): CPU per connect summed over Vigil and Redis at most 1.5x the
 * single-node figure.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { type Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startRedis } from '../test/support/redis-server.js';
import { runMqtt } from './cluster-mqtt.js';
import { freePort, installExitHooks, procSample, spawnTracked, stopTracked, waitForPort } from './suite/proc.js';

export const describe = 'cluster mode on Redis: connect cost, cross-node event latency, takeover time';

const ROOT = new URL('..', import.meta.url).pathname;
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const DOMAIN = 'bench.example';
const TOKEN = 'bench-token-0123456789abcdef';

export interface Node {
  pid: number;
  mqtt: number;
  http: number;
  stop(): Promise<void>;
}

export async function startNode(id: string, redisUrl: string | null, extraArgs: string[] = []): Promise<Node> {
  const dir = mkdtempSync(join(tmpdir(), `vigil-bench-cluster-${id}-`));
  const [mqtt, xmpp, http] = [await freePort(), await freePort(), await freePort()];
  const cfg = join(dir, 'vigil.yaml');
  writeFileSync(
    cfg,
    `data_dir: ${join(dir, 'data')}
listeners: { xmpp: { host: 127.0.0.1, port: ${xmpp} }, mqtt: { host: 127.0.0.1, port: ${mqtt}, max_conn_rate: 0 }, http: { host: 127.0.0.1, port: ${http} } }
hosts:
  ${DOMAIN}: { mqtt: { allow_anonymous: true, max_connections_per_ip: 0, max_connection_rate_per_ip: 0, max_connections: 0 } }
log: { level: warn }
${redisUrl ? `cluster: { redis: { url: "${redisUrl}" }, node_id: ${id}, lease_ms: 15000 }` : ''}
`,
  );
  const prof = process.env.VIGIL_BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.VIGIL_BENCH_PROF] : [];
  const child = spawnTracked(process.execPath, [...prof, '--import', TSX, join(ROOT, 'test/support/run-cli.ts'), 'serve', '--config', cfg, ...extraArgs], {
    cwd: dir,
    env: { ...process.env, VIGIL_API_TOKEN: TOKEN },
  });
  child.stdout?.resume();
  child.stderr?.resume();
  await waitForPort(mqtt, 30_000);
  await waitForPort(http, 30_000);
  return {
    pid: child.pid ?? 0,
    mqtt,
    http,
    async stop() {
      await stopTracked(child, 10_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function connectPacket(clientId: string): Buffer {
  const id = Buffer.from(clientId);
  const body = Buffer.concat([Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 60, id.length >> 8, id.length & 0xff]), id]);
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
}

/** Open an MQTT connection; resolves on CONNACK with the socket (closed later by the caller). */
function mqttConnect(port: number, clientId: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    s.setNoDelay(true);
    s.once('connect', () => s.write(connectPacket(clientId)));
    s.once('data', (d) => (d[0] === 0x20 ? resolve(s) : reject(new Error(`no CONNACK: ${d.toString('hex')}`))));
    s.once('error', reject);
  });
}

const cpuOf = (pids: number[]) => pids.reduce((n, p) => n + procSample(p).cpuMs, 0);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] ?? NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Connect n clients (concurrency 50) spread over the nodes; CPU of `pids` during the connects. */
async function connectRun(nodes: Node[], pids: number[], n: number, prefix: string): Promise<{ perS: number; cpuUs: number; parts: number[] }> {
  const socks: Socket[] = [];
  await sleep(500);
  const c0 = cpuOf(pids);
  const p0 = pids.map((p) => procSample(p).cpuMs);
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      socks.push(await mqttConnect(nodes[i % nodes.length]!.mqtt, `${prefix}-${i}`));
    }
  };
  await Promise.all(Array.from({ length: 50 }, worker));
  const wall = performance.now() - t0;
  await sleep(300); // presence writes and mirror reads of the last connects
  const cpu = cpuOf(pids) - c0;
  const parts = pids.map((p, i) => ((procSample(p).cpuMs - p0[i]!) * 1000) / n);
  for (const s of socks) s.destroy();
  await sleep(500);
  return { perS: (n / wall) * 1000, cpuUs: (cpu * 1000) / n, parts };
}

/** SSE reader on a node: calls back with (id, kind) for each change as it arrives. */
function sse(node: Node, on: (id: string, kind: string) => void): () => void {
  const req = request({ host: '127.0.0.1', port: node.http, path: '/v1/events', headers: { authorization: `Bearer ${TOKEN}`, accept: 'text/event-stream' } }, (res) => {
    let buf = '';
    res.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = frame.split('\n').find((l) => l.startsWith('data: '));
        if (!data) continue;
        const e = JSON.parse(data.slice(6)) as { id: string; kind: string };
        on(e.id, e.kind);
      }
    });
  });
  req.on('error', () => undefined);
  req.end();
  return () => req.destroy();
}

export async function run(args: string[]): Promise<void> {
  installExitHooks(); // a bench that dies (an unhandled client error) must not leave its nodes running
  if (!args.includes('--mqtt-only')) await connects(args);
  if (!args.includes('--no-mqtt')) await runMqtt(args);
}

async function connects(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const nArg = args.indexOf('--n');
  const n = nArg >= 0 ? Number(args[nArg + 1]) : quick ? 1_000 : 5_000;
  const samples = quick ? 100 : 500;
  const rows: string[][] = [];
  const redis = await startRedis({ args: ['--appendonly', 'no'] });
  const redisPid = redis.pid()!;
  try {
    const solo = await startNode('solo', null);
    const a = await connectRun([solo], [solo.pid], n, 'solo');
    await solo.stop();
    const one = await startNode('r1', redis.url);
    const b = await connectRun([one], [one.pid, redisPid], n, 'one');
    await one.stop();
    const n1 = await startNode('c1', redis.url);
    const n2 = await startNode('c2', redis.url);
    const c = await connectRun([n1, n2], [n1.pid, n2.pid, redisPid], n, 'two');
    const split = (r: { parts: number[] }) => r.parts.map((x) => x.toFixed(0)).join(' + ');
    rows.push(['1 node, no Redis', a.perS.toFixed(0), a.cpuUs.toFixed(0), split(a)]);
    rows.push(['1 node + Redis', b.perS.toFixed(0), `${b.cpuUs.toFixed(0)} (${(b.cpuUs / a.cpuUs).toFixed(2)}x)`, split(b)]);
    rows.push(['2 nodes + Redis', c.perS.toFixed(0), `${c.cpuUs.toFixed(0)} (${(c.cpuUs / a.cpuUs).toFixed(2)}x)`, split(c)]);
    console.log(`\nconnects (N=${n}, 50 at a time, MQTT 3.1.1 clean session, kept open)\n`);
    console.log('| setup | connects/s | server CPU per connect, us (ratio to 1 node) | split: Vigil node(s) + Redis, us |');
    console.log('| --- | --- | --- | --- |');
    for (const r of rows) console.log(`| ${r.join(' | ')} |`);

    // CONNECT on n1 -> `online` read on n2's SSE.
    const seen = new Map<string, number>();
    const stopSse = sse(n2, (id, kind) => kind === 'online' && !seen.has(id) && seen.set(id, performance.now()));
    await sleep(500);
    const lat: number[] = [];
    const held: Socket[] = [];
    for (let i = 0; i < samples; i++) {
      const id = `lat-${i}`;
      const t0 = performance.now();
      held.push(await mqttConnect(n1.mqtt, id));
      const until = Date.now() + 5_000;
      while (!seen.has(id) && Date.now() < until) await sleep(0.2);
      if (seen.has(id)) lat.push(seen.get(id)! - t0);
    }
    stopSse();
    for (const s of held) s.destroy();
    // Takeover: id live on n1, CONNECT on n2 -> n1's socket closed.
    const take: number[] = [];
    for (let i = 0; i < samples; i++) {
      const id = `tk-${i}`;
      const old = await mqttConnect(n1.mqtt, id);
      await sleep(2);
      const closed = new Promise<number>((r) => old.once('close', () => r(performance.now())));
      const t0 = performance.now();
      const nu = await mqttConnect(n2.mqtt, id);
      const t1 = await Promise.race([closed, sleep(5_000).then(() => NaN)]);
      if (Number.isFinite(t1)) take.push(t1 - t0);
      old.destroy();
      nu.destroy();
    }
    console.log(`\ncross-node (${samples} samples, 2 nodes + Redis)\n`);
    console.log('| figure | p50 ms | p99 ms |');
    console.log('| --- | --- | --- |');
    console.log(`| CONNECT on node A -> \`online\` read on node B (SSE) | ${pct(lat, 50).toFixed(2)} | ${pct(lat, 99).toFixed(2)} |`);
    console.log(`| takeover: CONNECT on node B -> old socket closed on node A | ${pct(take, 50).toFixed(2)} | ${pct(take, 99).toFixed(2)} |`);
    await n1.stop();
    await n2.stop();
  } finally {
    await redis.stop();
  }
}
