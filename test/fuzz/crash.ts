/**
 * Crash-safety harness (issue 8), for what the store makes durable today: retained messages
 * (QoS 1 and QoS 2 retained publishes; PUBACK / PUBREC = acknowledged) and users created over
 * REST (201 = acknowledged). Each cycle spawns the real server on one data_dir, drives both, kills
 * it with SIGKILL at a random moment, restarts it and checks that the store opened cleanly (the
 * server starts), every acknowledged user exists, and every retained topic holds a value at least
 * as new as the last acknowledged one (a later, unacknowledged one may have landed) that was sent.
 * Persistent QoS 1/2 publishers and subscribers (crash-sessions.ts) run across all cycles on a
 * fixed MQTT port: after each restart every acknowledged message reaches each subscriber (QoS 2
 * exactly once). Between a kill and the restart the harness opens the store itself
 * (`PRAGMA integrity_check`), checks every roster item written so far and adds one.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { openSqliteStore, sqlitePath } from '../../src/store/sqlite.js';
import { type SessionFigures, SessionLoad } from './crash-sessions.js';
import { makeRng } from './rng.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const TOKEN = 'crash-harness-token-0123456789';
const TOPICS = 12;
const debug = process.env.VIGIL_CRASH_DEBUG ? (...a: unknown[]) => console.error('crash:', ...a) : () => undefined;

interface Server {
  proc: ChildProcess;
  http: number;
  mqtt: number;
}

function startServer(config: string, dir: string): Promise<Server> {
  const proc = spawn(process.execPath, ['--import', TSX, join(ROOT, 'test/support/run-cli.ts'), 'serve', '--config', config], {
    cwd: dir,
    env: { ...process.env, VIGIL_API_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  return new Promise((resolve, reject) => {
    proc.stdout?.on('data', (d: Buffer) => {
      log += d.toString();
      const line = log.split('\n').find((l) => l.includes('"vigil_started"'));
      if (!line) return;
      const a = (JSON.parse(line) as { addresses: Record<string, { port: number }> }).addresses;
      resolve({ proc, http: a.http!.port, mqtt: a.mqtt!.port });
    });
    proc.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    proc.on('exit', (code) => reject(new Error(`server exited (${code}) before it started:\n${log.slice(-2000)}`)));
  });
}

const kill9 = (s: Server) =>
  new Promise<void>((resolve) => {
    if (s.proc.exitCode !== null || s.proc.signalCode !== null) return resolve();
    s.proc.once('exit', () => resolve());
    s.proc.kill('SIGKILL');
  });

export interface CrashReport {
  cycles: number;
  ms: number;
  ackedPublishes: number;
  ackedUsers: number;
  rosterItems: number;
  sessions: SessionFigures;
  problems: string[];
  /** QoS 2 messages acknowledged before a kill and delivered twice (known server bug, docs/security.md). */
  qos2Duplicates: string[];
}

/** A free port on 127.0.0.1 (the MQTT port stays fixed so the session clients reconnect to it). */
const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/** With the server down: the store opens (migrations), passes integrity_check, holds every roster item; add one. */
function checkStore(dataDir: string, cycle: number, items: string[]): string[] {
  const problems: string[] = [];
  const store = openSqliteStore(dataDir);
  const db = new Database(sqlitePath(dataDir), { readonly: true });
  const ok = db.pragma('integrity_check', { simple: true });
  db.close();
  if (ok !== 'ok') problems.push(`cycle ${cycle}: integrity_check says ${String(ok)}`);
  try {
    const have = new Set(store.rosters.list('localhost', 'crash').map((i) => i.jid));
    for (const jid of items) if (!have.has(jid)) problems.push(`cycle ${cycle}: roster item ${jid} missing`);
    const jid = `c${cycle}@localhost`;
    store.rosters.put('localhost', 'crash', { jid, name: null, subscription: 'both', askOut: false, pendingIn: false, approved: false, groups: ['crash'] });
    items.push(jid);
  } finally {
    store.close();
  }
  return problems;
}

export async function crashCycles(opts: { cycles: number; seed: number }): Promise<CrashReport> {
  const rng = makeRng(opts.seed);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-crash-'));
  const config = join(dir, 'vigil.yaml');
  const mqttPort = await freePort();
  writeFileSync(
    config,
    `data_dir: ${join(dir, 'data')}
listeners:
  xmpp: { host: 127.0.0.1, port: 0 }
  mqtt: { host: 127.0.0.1, port: ${mqttPort} }
  http: { host: 127.0.0.1, port: 0 }
hosts:
  localhost: { mqtt: { allow_anonymous: true, max_connection_rate_per_ip: 0, max_mqueue_len: 1000000 }, xmpp: { tls: off } }
log: { level: info }
`,
  );
  const t0 = Date.now();
  const problems: string[] = [];
  /** Per topic: every value sent, and the sequence of the last acknowledged one. */
  const sent = new Map<string, Set<number>>();
  const lastAcked = new Map<string, number>();
  const ackedUsers = new Set<string>();
  let ackedPublishes = 0;
  let seq = 0;
  const rosterItems: string[] = [];
  const qos2Duplicates: string[] = [];
  const sessions = new SessionLoad(mqttPort);
  const settle = async (cycle: number, ms: number) => {
    const left = await sessions.settle(ms);
    if (left.length > 0) problems.push(`cycle ${cycle}: ${left.length} acknowledged messages not received in ${ms} ms: ${left.slice(0, 5).join(', ')}`);
  };
  try {
    for (let cycle = 0; cycle < opts.cycles; cycle++) {
      problems.push(...checkStore(join(dir, 'data'), cycle, rosterItems));
      const server = await startServer(config, dir);
      debug('started', cycle, server.http, server.mqtt);
      if (cycle === 0) await sessions.start();
      else await settle(cycle, 15_000);
      problems.push(...(await check(server, cycle, lastAcked, sent, ackedUsers)));
      // Load: retained QoS 1 / QoS 2 publishes and user creations until the kill.
      const client = mqtt.connect(`mqtt://127.0.0.1:${server.mqtt}`, { clientId: `crash-pub-${cycle}`, clean: true, reconnectPeriod: 0 });
      client.on('error', () => undefined);
      let stop = false;
      const pump = async () => {
        await new Promise<void>((r) => {
          client.once('connect', () => r());
          client.once('close', () => r());
        });
        while (!stop && client.connected) {
          const batch = Array.from({ length: 8 }, () => {
            const topic = `crash/${rng.int(TOPICS)}`;
            const n = ++seq;
            let set = sent.get(topic);
            if (!set) sent.set(topic, (set = new Set()));
            set.add(n);
            return new Promise<void>((resolve) =>
              client.publish(topic, String(n), { qos: n % 2 === 0 ? 1 : 2, retain: true }, (err) => {
                if (!err && !stop) {
                  ackedPublishes++;
                  if ((lastAcked.get(topic) ?? 0) < n) lastAcked.set(topic, n);
                }
                resolve();
              }),
            );
          });
          const user = `u${cycle}x${seq}`;
          const created = fetch(`http://127.0.0.1:${server.http}/v1/hosts/localhost/users`, {
            method: 'POST',
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
            body: JSON.stringify({ user, password: 'pw' }),
          }).then(
            (res) => {
              if (res.status === 201 && !stop) ackedUsers.add(user);
            },
            () => undefined,
          );
          await Promise.all([...batch, created]);
        }
      };
      // Not awaited: publishes in flight at the kill never complete (mqtt.js drops their callbacks).
      void pump().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 300 + rng.int(1_200)));
      debug('killing', cycle, ackedPublishes, ackedUsers.size);
      sessions.markKill();
      await kill9(server);
      debug('killed', cycle);
      stop = true;
      client.end(true);
    }
    problems.push(...checkStore(join(dir, 'data'), opts.cycles, rosterItems));
    const last = await startServer(config, dir);
    await sessions.drain(10_000);
    await settle(opts.cycles, 20_000);
    problems.push(...(await check(last, opts.cycles, lastAcked, sent, ackedUsers)));
    problems.push(...sessions.problems());
    qos2Duplicates.push(...sessions.qos2Duplicates());
    await kill9(last);
  } finally {
    sessions.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const ms = Date.now() - t0;
  return { cycles: opts.cycles, ms, ackedPublishes, ackedUsers: ackedUsers.size, rosterItems: rosterItems.length, sessions: sessions.figures(), problems, qos2Duplicates };
}

/** After a (re)start: every acknowledged user exists, every retained topic is at least as new as acknowledged. */
async function check(server: Server, cycle: number, lastAcked: Map<string, number>, sent: Map<string, Set<number>>, users: Set<string>): Promise<string[]> {
  const problems: string[] = [];
  debug('check', cycle);
  const res = await fetch(`http://127.0.0.1:${server.http}/v1/hosts/localhost/users`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const have = new Set(((await res.json()) as { items: { user: string }[] }).items.map((u) => u.user));
  for (const u of users) if (!have.has(u)) problems.push(`cycle ${cycle}: acknowledged user ${u} missing`);
  const retained = new Map<string, number>();
  const sub = mqtt.connect(`mqtt://127.0.0.1:${server.mqtt}`, { clientId: `crash-check-${cycle}`, clean: true, reconnectPeriod: 0 });
  sub.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    sub.on('message', (topic, payload, packet) => {
      if (packet.retain) retained.set(topic, Number(payload.toString()));
    });
    sub.once('connect', () => sub.subscribe('crash/#', { qos: 1 }, (err) => (err ? reject(err) : setTimeout(resolve, 300))));
  });
  sub.end(true);
  debug('checked', cycle, retained.size);
  for (const [topic, acked] of lastAcked) {
    const got = retained.get(topic);
    if (got === undefined) problems.push(`cycle ${cycle}: retained ${topic} missing (acknowledged ${acked})`);
    else if (got < acked) problems.push(`cycle ${cycle}: retained ${topic} is ${got}, older than acknowledged ${acked}`);
    else if (!sent.get(topic)?.has(got)) problems.push(`cycle ${cycle}: retained ${topic} is ${got}, never sent there`);
  }
  return problems;
}
