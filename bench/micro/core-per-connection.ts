/**
 * Per-connection memory and per-connect CPU of Vigil's shared cores (issue 7): the liveness
 * registry, the presence table and the MQTT session service, wired as src/app.ts and
 * src/mqtt/broker-sessions.ts wire them, driven through their public APIs the way
 * src/mqtt/broker.ts `open` does on an accepted CONNECT (clean session, MQTT 3.1.1, Keep Alive 600):
 *
 *   sessions.open(req, conn, connack) -> liveness.track(key, conn, expire 1.5 x keepalive)
 *   -> presence.setMeta(ref, {username, protocol_level, ...}) -> presence.setFigures(ref, closure)
 *
 * No sockets, no protocol layer: the fake connection objects and the client id strings are made
 * before the baseline heap reading, so what is printed is what the cores keep per connection
 * (JS heap + ArrayBuffers after forced GCs) and the CPU time of the opens (process CPU, so GC
 * helper threads count; wall time beside it). Memory is deterministic; CPU is the median of
 * `--runs` fresh rigs, and still wanders on a shared machine. Under tsx every function carries a
 * small `__name` call tsc does not emit, so the CPU figures are a little high.
 *
 *   node --expose-gc --import tsx bench/micro/core-per-connection.ts [--n 10000] [--runs 5] [--json] [--snapshots DIR]
 *
 * Lines: bytes and CPU per open for the whole open (the broker's per-connection figures closure
 * included), the same with one presence figures source instead of the closures, and each part
 * alone (session service; liveness registry; liveness + presence row, feed entry and meta).
 * --snapshots DIR writes heap snapshots before and after the first full open.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import { loadConfig } from '../../src/config/load.js';
import { fileHostSettings } from '../../src/host-settings.js';
import { createLivenessRegistry } from '../../src/liveness/registry.js';
import type { DisconnectReason, EndpointRef, LivenessAdapter, LivenessHandle, LivenessRegistry } from '../../src/liveness/types.js';
import { deliveryCodec } from '../../src/mqtt/delivery-codec.js';
import { SessionWriter } from '../../src/mqtt-session/durable.js';
import { sessionLimits } from '../../src/mqtt-session/limits.js';
import { type SessionHandle, SessionService, type SessionSink } from '../../src/mqtt-session/session-service.js';
import type { Delivery } from '../../src/mqtt/message.js';
import { snakeFigures } from '../../src/mqtt/broker-sessions.js';
import type { SubOptions } from '../../src/mqtt/channel-session.js';
import { createPresenceTable } from '../../src/presence/table.js';
import type { PresenceTable } from '../../src/presence/types.js';
import { memorySessions } from '../../src/store/memory-sessions.js';
import { systemClock } from '../../src/time/clock.js';
import { systemScheduler } from '../../src/time/scheduler.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('run with node --expose-gc --import tsx bench/micro/core-per-connection.ts');
  process.exit(2);
}

const argv = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const N = arg('n', 10_000);
const json = argv.includes('--json');
/** --snapshots DIR: heap snapshots before and after the first full open (compare them in DevTools). */
const snapshotsAt = argv.includes('--snapshots') ? argv[argv.indexOf('--snapshots') + 1]! : null;

const { config } = loadConfig({ env: {} });
const HOST = Object.keys(config.hosts)[0]!;

/** Stands in for MqttConnection: the session sink and the liveness adapter (one object, no closures). */
class FakeConn implements SessionSink<Delivery>, LivenessAdapter {
  session: SessionHandle<Delivery, SubOptions> | null = null;
  generation = 0;
  handle: LivenessHandle | null = null;
  connacks = 0;
  constructor(
    readonly id: string,
    readonly ip: string,
  ) {}
  publish(): void {}
  pubrel(): void {}
  probe(_ep: EndpointRef): void {}
  kill(_ep: EndpointRef, _reason: DisconnectReason): void {}
}

interface Rig {
  liveness: LivenessRegistry;
  presence: PresenceTable | null;
  sessions: SessionService<Delivery, SubOptions> | null;
  stop(): void;
}

interface Parts {
  presence: boolean;
  sessions: boolean;
  track: boolean;
  /** Session figures through one presence.setFiguresSource instead of a setFigures closure per connection. */
  source?: boolean;
}

function rig(parts: Parts): Rig {
  const liveness = createLivenessRegistry({ clock: systemClock, scheduler: systemScheduler, hosts: fileHostSettings(config), activityTime: 'turn' });
  const presence = parts.presence
    ? createPresenceTable({
        clock: systemClock,
        scheduler: systemScheduler,
        liveness,
        feedSize: config.presence.feed_size,
        offlineTtlMs: config.presence.offline_ttl * 1000,
        maxOffline: config.presence.max_offline,
      })
    : null;
  const sessions = parts.sessions
    ? new SessionService<Delivery, SubOptions>({
        limitsOf: (host) => sessionLimits(config.hosts[host]!.mqtt),
        clock: systemClock,
        scheduler: systemScheduler,
        writer: new SessionWriter<Delivery>({ repo: memorySessions(), codec: deliveryCodec, defer: (fn) => setImmediate(fn) }),
      })
    : null;
  if (parts.source && presence) presence.setFiguresSource('mqtt', (host, id) => snakeFigures(sessions?.figures(host, id)));
  return {
    liveness,
    presence,
    sessions,
    stop() {
      presence?.stop();
      liveness.stop();
      sessions?.shutdown();
    },
  };
}

const KEEPALIVE = 600;

/** What broker.ts `open` does with the cores for one accepted CONNECT. */
function open(r: Rig, c: FakeConn, parts: Parts): void {
  const sessions = r.sessions;
  if (sessions && parts.sessions) {
    const opened = sessions.open({ host: HOST, clientId: c.id, cleanStart: true, version: 4, receiveMaximum: 32 }, c, () => {
      c.connacks++;
    });
    c.session = opened.handle;
    c.generation = opened.generation;
  }
  if (!parts.track) return;
  const handle = r.liveness.track({ host: HOST, transport: 'mqtt', id: c.id }, c, { onIdle: 'expire', idleMs: KEEPALIVE * 1500 });
  c.handle = handle;
  if (!r.presence) return;
  r.presence.setMeta(handle.ref, { username: null, protocol_level: 4, keepalive: KEEPALIVE, clean_start: true, session_expiry: 0, ip: c.ip });
  if (parts.source) return;
  const id = c.id;
  r.presence.setFigures(handle.ref, () => snakeFigures(sessions?.figures(HOST, id)));
}

function conns(prefix: string, n: number): FakeConn[] {
  const out: FakeConn[] = [];
  // Distinct flat strings, as the MQTT parser hands them over.
  for (let i = 0; i < n; i++) out.push(new FakeConn(`${prefix}-${i.toString(36).padStart(6, '0')}`.split('').join(''), '127.0.0.1'));
  return out;
}

/** JS heap plus ArrayBuffer contents (the presence feed's and the deadline heap's typed columns live there). */
function heap(): number {
  gc!();
  gc!();
  gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

interface Measure {
  bytes: number;
  cpuUs: number;
  wallUs: number;
}

/** Open `n` connections on a fresh rig with the given parts; heap bytes and CPU us per connection. */
/** Let pending immediates and timers of earlier rigs run until what they held is collected. */
async function settle(): Promise<void> {
  let last = heap();
  for (let i = 0; i < 40; i++) {
    await new Promise<void>((resolve) => setTimeout(resolve, 25));
    const now = heap();
    if (now > last - 100_000) return;
    last = now;
  }
}

async function measure(parts: Parts, n: number, prefix: string, snapshots: string | null = null): Promise<Measure> {
  await settle();
  const cs = conns(prefix, n);
  const r = rig(parts);
  const before = heap();
  if (snapshots) writeHeapSnapshot(join(snapshots, 'core-before.heapsnapshot'));
  const c0 = cpuUs();
  const w0 = performance.now();
  for (const c of cs) open(r, c, parts);
  const cpu = cpuUs() - c0;
  const wall = (performance.now() - w0) * 1000;
  const after = heap();
  if (snapshots) writeHeapSnapshot(join(snapshots, 'core-after.heapsnapshot'));
  const m = { bytes: (after - before) / n, cpuUs: cpu / n, wallUs: wall / n };
  r.stop();
  cs.length = 0;
  return m;
}

const all = { presence: true, sessions: true, track: true };
// Warm-up: let the JIT see every path once at a realistic size, on throw-away instances.
for (let i = 0; i < 3; i++) await measure(all, 5_000, `warm${i}`);

/** Median CPU over `runs` fresh rigs (the machine is shared: single runs wander); heap of the first. */
async function repeated(parts: Parts, prefix: string, runs: number, snapshots: string | null = null): Promise<Measure> {
  const ms: Measure[] = [];
  for (let i = 0; i < runs; i++) ms.push(await measure(parts, N, `${prefix}${i}`, i === 0 ? snapshots : null));
  const mid = <K extends keyof Measure>(k: K) => ms.map((m) => m[k]).sort((a, b) => a - b)[runs >> 1]!;
  return { bytes: ms[0]!.bytes, cpuUs: mid('cpuUs'), wallUs: mid('wallUs') };
}

const RUNS = arg('runs', 5);
const results = {
  n: N,
  node: process.version,
  full: await repeated(all, 'full', RUNS, snapshotsAt),
  sessionsOnly: await repeated({ presence: false, sessions: true, track: false }, 'sess', RUNS),
  livenessOnly: await repeated({ presence: false, sessions: false, track: true }, 'live', RUNS),
  livenessPresence: await repeated({ presence: true, sessions: false, track: true }, 'pres', RUNS),
  fullSource: await repeated({ ...all, source: true }, 'src', RUNS),
};

if (json) {
  console.log(JSON.stringify(results));
} else {
  const f = (m: Measure) => `${m.bytes.toFixed(0).padStart(6)} B/conn  ${m.cpuUs.toFixed(2).padStart(6)} us CPU/open  ${m.wallUs.toFixed(2).padStart(6)} us wall/open`;
  console.log(`core-per-connection: N=${N}, node ${process.version}, feed_size ${config.presence.feed_size}, CPU = median of ${RUNS} runs`);
  console.log(`  full open (session + liveness + presence + meta): ${f(results.full)}`);
  console.log(`  full open, figures source instead of closures:    ${f(results.fullSource)}`);
  console.log(`  session service alone:                           ${f(results.sessionsOnly)}`);
  console.log(`  liveness registry alone:                          ${f(results.livenessOnly)}`);
  console.log(`  liveness + presence (row, feed entry, meta):      ${f(results.livenessPresence)}`);
  console.log(`  => presence share:                                ${(results.livenessPresence.bytes - results.livenessOnly.bytes).toFixed(0).padStart(6)} B/conn`);
}
