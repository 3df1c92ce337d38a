/**
 * `vigil serve --workers 2` (issue 16): two worker processes share the listeners and run as two
 * cluster nodes on one redis-server; a message crosses from a client of one worker to a client of
 * the other; a worker killed with SIGKILL is started again under its node id while its clients
 * reconnect to the other; SIGTERM to the primary stops everything and exits 0.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { runVigil, spawnVigil, whenStarted } from '../support/spawn-vigil.js';
import { TOKEN, clusterYaml, until } from './rig.js';

let redis: RedisServer | null = null;
let child: ChildProcess | null = null;
let dir = '';
const clients: MqttClient[] = [];
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const pids = new Set<number>();

afterAll(async () => {
  for (const cl of clients) cl.end(true);
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface LogLine {
  event?: string;
  worker?: number;
  pid?: number;
  node_id?: string;
}

it('two workers share the port, cross-deliver, survive a kill -9 of one, stop on SIGTERM', async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'vigil-workers-'));
  writeFileSync(join(dir, 'vigil.yaml'), clusterYaml({ dir: join(dir, 'data'), redisUrl: redis.url, nodeId: 'box', leaseMs: 1_500 }).replace('log: {level: silent}', 'log: {level: info}'));
  child = spawnVigil(['serve', '--config', join(dir, 'vigil.yaml'), '--workers', '2'], dir, { VIGIL_API_TOKEN: TOKEN });
  const run = whenStarted(child);
  const addr = await run.started;
  const lines = () => run.log().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);
  const started = () => lines().filter((l) => l.event === 'worker_started');
  await until(() => started().length === 2, 20_000, 'two workers serving');
  for (const l of started()) pids.add(l.pid!);
  expect(new Set(started().map((l) => l.worker))).toEqual(new Set([1, 2]));

  const rest = async (path: string) => (await (await fetch(`http://127.0.0.1:${addr.http.port}/v1${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as Record<string, unknown>;
  const nodeIds = async () => ((await rest('/cluster')).nodes as { node: string }[]).map((n) => n.node).sort();
  await until(async () => (await nodeIds()).join() === 'box-w1,box-w2', 10_000, 'both workers in GET /v1/cluster');

  // Connections alternate between the workers (round-robin): 4 clients, 2 on each.
  const connect = (clientId: string, opts: mqtt.IClientOptions = {}) =>
    new Promise<MqttClient>((resolve) => {
      const c = mqtt.connect({ host: '127.0.0.1', port: addr.mqtt.port, clientId, reconnectPeriod: 100, ...opts });
      c.on('error', () => undefined);
      clients.push(c);
      c.once('connect', () => resolve(c));
    });
  const subs = [await connect('wk-sub-a', { clean: false }), await connect('wk-sub-b', { clean: false })];
  const pubs = [await connect('wk-pub-a'), await connect('wk-pub-b')];
  const got = subs.map(() => [] as string[]);
  subs.forEach((s, i) => s.on('message', (_t, p) => got[i]!.push(String(p))));
  for (const s of subs) await s.subscribeAsync('wk/#', { qos: 1 });
  const endpoints = async () => ((await rest('/hosts/example.org/endpoints?limit=100')).items as { id: string; node: string; state: string }[]).filter((e) => e.state === 'online');
  await until(async () => new Set((await endpoints()).map((e) => e.node)).size === 2, 10_000, 'clients on both workers');
  // Every publisher reaches every subscriber, whichever worker each is on.
  const sendAll = async (tag: string) => {
    for (const [i, p] of pubs.entries()) for (let k = 0; k < 5; k++) await p.publishAsync('wk/x', `${tag}${i}-${k}`, { qos: 1 });
  };
  await until(async () => {
    await sendAll('probe');
    return got.every((g) => g.some((m) => m.startsWith('probe0')) && g.some((m) => m.startsWith('probe1')));
  }, 10_000, 'routes known on both workers');
  for (const g of got) g.length = 0;
  await sendAll('a');
  const tagged = (g: string[], tag: string) => g.filter((m) => m.startsWith(tag)).sort();
  await until(() => got.every((g) => tagged(g, 'a').length >= 10), 10_000, 'every message on both subscribers');
  for (const g of got) expect(tagged(g, 'a')).toEqual(['a0-0', 'a0-1', 'a0-2', 'a0-3', 'a0-4', 'a1-0', 'a1-1', 'a1-2', 'a1-3', 'a1-4']);

  // kill -9 of worker 1: started again (a new pid, same node id); its clients reconnect.
  const w1 = started().find((l) => l.worker === 1)!.pid!;
  process.kill(w1, 'SIGKILL');
  await until(() => lines().some((l) => l.event === 'worker_exited' && l.worker === 1), 10_000, 'worker_exited logged');
  await until(() => started().filter((l) => l.worker === 1).length === 2, 30_000, 'worker 1 serving again');
  const again = started().filter((l) => l.worker === 1)[1]!.pid!;
  pids.add(again);
  expect(again).not.toBe(w1);
  expect(alive(w1)).toBe(false);
  await until(() => clients.every((c) => c.connected), 10_000, 'clients reconnected');
  for (const g of got) g.length = 0;
  await until(async () => {
    await sendAll('b');
    return got.every((g) => g.some((m) => m.startsWith('b0')) && g.some((m) => m.startsWith('b1')));
  }, 15_000, 'delivery after the restart');
  await until(async () => (await nodeIds()).join() === 'box-w1,box-w2', 10_000, 'both workers in GET /v1/cluster again');

  for (const cl of clients) cl.end(true);
  const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  for (const pid of pids) await until(() => !alive(pid), 5_000, `worker ${pid} gone`);
}, 120_000);

it('--workers needs a cluster section, and a count', async () => {
  const d = mkdtempSync(join(tmpdir(), 'vigil-workers-'));
  try {
    writeFileSync(join(d, 'single.yaml'), `data_dir: ${join(d, 'data')}\n`);
    const r = await runVigil(['serve', '--config', join(d, 'single.yaml'), '--workers', '2'], d);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--workers 2 needs a cluster section');
    const bad = await runVigil(['serve', '--config', join(d, 'single.yaml'), '--workers', 'zero'], d);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--workers expects an integer from 1 to 256');
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}, 30_000);
