/**
 * Crash harness of MQTT across nodes (issue 16): one redis-server, three spawned `vigil serve`
 * nodes, persistent QoS 1 and QoS 2 publishers and subscribers (crash-sessions.ts) spread over the
 * nodes, each mqtt.js client moving to the next node when its node dies. Each cycle: traffic for a
 * random while, a few clients with wills (QoS 2, no delay or 1 s) connect to a random node, that
 * node is killed with SIGKILL, and started again under the same node id.
 *
 * Report: messages acknowledged (PUBACK / PUBREC < 0x80), missing (acknowledged, never received
 * by a subscriber: must be 0), QoS 2 duplicates (must be 0), QoS 1 duplicates (allowed, counted),
 * wills of the killed nodes received by a persistent QoS 2 watcher (each exactly once).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { freePort, startRedis } from '../support/redis-server.js';
import { type SessionFigures, SessionLoad } from './crash-sessions.js';
import { makeRng } from './rng.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const debug = process.env.VIGIL_CRASH_DEBUG ? (...a: unknown[]) => console.error('cluster-crash:', ...a) : () => undefined;
const WILLS_PER_CYCLE = 4;

export interface ClusterCrashReport {
  cycles: number;
  ms: number;
  /** How long the subscribers took, after the publishers stopped, to receive what was acknowledged. */
  drainMs: number;
  acked: number;
  sessions: SessionFigures;
  wills: { expected: number; received: number; missing: number; duplicates: number };
  problems: string[];
}

interface Node {
  id: string;
  mqtt: number;
  config: string;
  proc: ChildProcess | null;
}

function start(node: Node, dir: string): Promise<void> {
  const proc = spawn(process.execPath, ['--import', TSX, join(ROOT, 'test/support/run-cli.ts'), 'serve', '--config', node.config], {
    cwd: dir,
    env: { ...process.env, VIGIL_API_TOKEN: 'cluster-crash-token-0123456789' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  node.proc = proc;
  let log = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${node.id} did not start within 60 s:\n${log.slice(-2000)}`)), 60_000);
    proc.stdout?.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-20_000);
      if (log.includes('"vigil_started"')) {
        clearTimeout(t);
        resolve();
      }
    });
    proc.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
    proc.on('exit', (code) => reject(new Error(`${node.id} exited (${code}) before it started:\n${log.slice(-2000)}`)));
  });
}

const kill9 = (node: Node) =>
  new Promise<void>((resolve) => {
    const p = node.proc;
    node.proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return resolve();
    p.once('exit', () => resolve());
    p.kill('SIGKILL');
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The first CONNACK of `cl`, or an error naming `what` after 10 s (a harness must not hang). */
function connected(cl: MqttClient, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: no CONNACK within 10 s`)), 10_000);
    cl.once('connect', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

export async function clusterCrash(opts: { cycles: number; seed: number; leaseMs?: number }): Promise<ClusterCrashReport> {
  const rng = makeRng(opts.seed);
  const leaseMs = opts.leaseMs ?? 1_500;
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cluster-crash-'));
  const redis = await startRedis({ args: ['--appendonly', 'no'] });
  const nodes: Node[] = [];
  for (const id of ['n1', 'n2', 'n3']) {
    const node: Node = { id, mqtt: await freePort(), config: join(dir, `${id}.yaml`), proc: null };
    writeFileSync(
      node.config,
      `data_dir: ${join(dir, id)}
listeners: { xmpp: { host: 127.0.0.1, port: 0 }, mqtt: { host: 127.0.0.1, port: ${node.mqtt} }, http: { host: 127.0.0.1, port: 0 } }
hosts:
  localhost: { mqtt: { allow_anonymous: true, max_connection_rate_per_ip: 0, max_connections_per_ip: 0, max_mqueue_len: 1000000 }, xmpp: { tls: off } }
cluster: { redis: { url: "${redis.url}" }, node_id: ${id}, lease_ms: ${leaseMs} }
log: { level: info }
# info: start() waits for the vigil_started line
`,
    );
    nodes.push(node);
  }
  const t0 = Date.now();
  const problems: string[] = [];
  const sessions = new SessionLoad(nodes.map((n) => n.mqtt));
  const servers = nodes.map((n) => ({ host: '127.0.0.1', port: n.mqtt }));
  const wills = new Map<string, number>();
  const expectedWills = new Set<string>();
  let watcher: MqttClient | null = null;
  const dying: MqttClient[] = [];
  let drainMs = 0;
  try {
    await Promise.all(nodes.map((n) => start(n, dir)));
    watcher = mqtt.connect({ host: '127.0.0.1', port: nodes[2]!.mqtt, servers: [...servers.slice(2), ...servers.slice(0, 2)], clientId: 'will-watch', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 }, reconnectPeriod: 100, resubscribe: false });
    watcher.on('error', () => undefined);
    watcher.on('message', (topic) => wills.set(topic, (wills.get(topic) ?? 0) + 1));
    await connected(watcher, 'will watcher');
    await watcher.subscribeAsync('w/#', { qos: 2 });
    await sessions.start();
    for (let cycle = 0; cycle < opts.cycles; cycle++) {
      await sleep(300 + rng.int(1_200));
      const victim = nodes[rng.int(nodes.length)]!;
      for (let i = 0; i < WILLS_PER_CYCLE; i++) {
        const topic = `w/${cycle}/${i}`;
        const cl = mqtt.connect({ host: '127.0.0.1', port: victim.mqtt, clientId: `dying-${cycle}-${i}`, protocolVersion: 5, properties: { sessionExpiryInterval: 10 }, reconnectPeriod: 0, will: { topic, payload: Buffer.from(topic), qos: 2, retain: false, properties: { willDelayInterval: i % 2 } } });
        cl.on('error', () => undefined);
        dying.push(cl);
        await connected(cl, `dying-${cycle}-${i} on ${victim.id}`);
        expectedWills.add(topic);
      }
      debug('killing', victim.id, 'cycle', cycle, Date.now());
      sessions.markKill();
      await kill9(victim);
      await sleep(rng.int(leaseMs));
      await start(victim, dir);
      debug('restarted', victim.id, Date.now());
    }
    await sessions.drain(20_000);
    const drainFrom = Date.now();
    const left = await sessions.settle(300_000, 15_000);
    drainMs = Date.now() - drainFrom;
    if (process.env.VIGIL_CRASH_DEBUG && left.length > 0) {
      const { createClient } = await import('@redis/client');
      const r = createClient({ url: redis.url, RESP: 2 });
      await r.connect();
      for (const sk of ['localhost|crash-sub-v3', 'localhost|crash-sub-v5']) {
        debug(sk, 'ms', await r.sendCommand(['HGETALL', `{vigil}:ms:${sk}`]), 'mq', await r.sendCommand(['XLEN', `{vigil}:mq:${sk}`]), 'minfo', await r.sendCommand(['HGETALL', `{vigil}:minfo:${sk}`]), 'msub', await r.sendCommand(['HGETALL', `{vigil}:msub:${sk}`]));
        const q = (await r.sendCommand(['XRANGE', `{vigil}:mq:${sk}`, '-', '+', 'COUNT', '5'])) as [string, string[]][];
        for (const [id, f] of q) debug(' mq', id, JSON.stringify(String(f[1]).slice(-40)));
      }
      debug('rts', await r.sendCommand(['HGETALL', '{vigil}:rts:localhost']), 'rtn', await r.sendCommand(['HGETALL', '{vigil}:rtn:localhost']));
      await r.close();
    }
    for (const m of left.slice(0, 40)) {
      debug('missing', m, 'sent at', sessions.sentAt.get(Number(m.split(':')[1])) ?? 0);
      const [sub, key] = m.split(' ') as [string, string];
      for (const [k, evs] of sessions.trace ?? []) if (k.startsWith(`${sub}#`) && evs.some((e) => e.includes(`=${key.split(':')[1]} `))) debug('  id', k, evs);
    }
    if (left.length > 0) problems.push(`${left.length} acknowledged messages not received: ${left.slice(0, 5).join(', ')}`);
    const end = Date.now() + 20_000;
    while ([...expectedWills].some((t) => !wills.has(t)) && Date.now() < end) await sleep(100);
    await sleep(500);
    problems.push(...sessions.problems());
  } finally {
    sessions.close();
    watcher?.end(true);
    for (const cl of dying) cl.end(true);
    await Promise.all(nodes.map(kill9));
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const figures = sessions.figures();
  let missing = 0;
  let duplicates = 0;
  for (const t of expectedWills) {
    const n = wills.get(t) ?? 0;
    if (n === 0) missing++;
    if (n > 1) duplicates += n - 1;
  }
  if (missing > 0) problems.push(`${missing} wills never published`);
  if (duplicates > 0) problems.push(`${duplicates} wills published more than once`);
  if (figures.missing > 0) problems.push(`${figures.missing} acknowledged messages missing`);
  if (figures.dup2 > 0) problems.push(`${figures.dup2} QoS 2 duplicates`);
  if (figures.idReuse > 0) problems.push(`${figures.idReuse} QoS 2 packet ids reused without DUP`);
  return {
    cycles: opts.cycles,
    ms: Date.now() - t0,
    drainMs,
    acked: figures.acked1 + figures.acked2,
    sessions: figures,
    wills: { expected: expectedWills.size, received: [...wills.values()].reduce((a, b) => a + b, 0), missing, duplicates },
    problems,
  };
}
