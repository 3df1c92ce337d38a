/**
 * The fuzz loop: batches of mutated XMPP and MQTT streams against one in-process World, each
 * batch followed by the checks of issue 8:
 * - no uncaught exception or unhandled rejection, no internal-error log record;
 * - every fuzz connection closed by the server once the handshake / CONNECT timeout has passed,
 *   unless it negotiated a session (then the client closes it) and, after that, no connection,
 *   liveness endpoint or socket left behind;
 * - stream errors carry a real condition (never internal-server-error);
 * - the control clients on the same server stay connected, get their messages and their pings.
 * A failing batch is replayed case by case on a fresh World to find the input that breaks things;
 * that input is returned (and written as a regression file when `saveDir` is set).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { childText } from '../../src/xmpp/xml.js';
import { MqttControl, type Proto, RawConn, type WsCase, XmppControl } from './clients.js';
import { mqttCase } from './mqtt-cases.js';
import { chunk } from './mutate.js';
import { makeRng } from './rng.js';
import { type World, makeWorld, settle } from './world.js';
import { FUZZ_DOMAIN, xmlCase } from './xml-cases.js';

export interface FuzzCase {
  proto: Proto;
  chunks: Buffer[];
  /** Case number within the run (the rng seed of the case is derived from it). */
  n: number;
  /** Over an in-memory WebSocket with the protocol's framing (issue 14): each chunk is one message. */
  ws?: WsCase;
}

/** Share of cases sent over WebSocket framing. */
const WS_SHARE = 0.3;

export interface Finding {
  kind: 'uncaught' | 'internal_error' | 'leak' | 'control' | 'bad_condition' | 'not_closed';
  detail: string;
  cases: FuzzCase[];
}

export interface FuzzOptions {
  cases: number;
  seconds: number;
  seed: number;
  batch?: number;
  protos?: readonly Proto[];
  /** Write each isolated failing input here as <proto>/<hash>.json. */
  saveDir?: string;
  progress?: (r: FuzzReport) => void;
}

export interface FuzzReport {
  cases: number;
  byProto: Record<Proto, number>;
  /** Cases sent over WebSocket framing (the rest over a byte stream). */
  wsCases: number;
  ms: number;
  findings: Finding[];
  /** Stream error conditions (XMPP) seen on fuzz connections. */
  conditions: Record<string, number>;
  closedByServer: number;
  negotiated: number;
  controlMessages: number;
  controlPings: number;
}

const TIMEOUT_WAIT_MS = 3_500; // handshake_timeout / connect_timeout 2 s + sweeper tick + close grace

export function makeCase(seed: number, n: number, protos: readonly Proto[]): FuzzCase {
  const rng = makeRng((seed * 1_000_003 + n) >>> 0);
  const proto = protos[rng.int(protos.length)]!;
  // Its own rng, so that the tcp cases of a seed stay what they were before WebSocket cases.
  const wsRng = makeRng(((seed * 1_000_003 + n) ^ 0x9e3779b9) >>> 0);
  if (wsRng.chance(WS_SHARE)) return wsCaseOf(proto, rng, wsRng, n);
  if (proto === 'mqtt') return { proto, chunks: chunk(mqttCase(rng), rng), n };
  const segs = xmlCase(rng);
  const chunks = rng.chance(0.3) ? chunk(Buffer.concat(segs), rng) : segs.flatMap((s) => (rng.chance(0.8) ? [s] : chunk(s, rng)));
  return { proto, chunks, n };
}

/**
 * A WebSocket case: MQTT bytes cut into binary messages (packets across messages, several in one,
 * empty ones), or RFC 7395 messages (one element each, a few cut in pieces); now and then one
 * message of the wrong kind (text for MQTT [MQTT-6.0.0-1], binary for XMPP).
 */
function wsCaseOf(proto: Proto, rng: ReturnType<typeof makeRng>, wsRng: ReturnType<typeof makeRng>, n: number): FuzzCase {
  let chunks: Buffer[];
  if (proto === 'mqtt') {
    chunks = chunk(mqttCase(rng), rng);
    if (wsRng.chance(0.2)) chunks.splice(wsRng.int(chunks.length + 1), 0, Buffer.alloc(0));
  } else {
    chunks = xmlCase(rng, true).flatMap((s) => (wsRng.chance(0.05) ? chunk(s, rng) : [s]));
  }
  const flip = wsRng.chance(0.05) ? wsRng.int(chunks.length) : -1;
  return { proto, chunks, n, ws: { flip } };
}

interface Rig {
  world: World;
  a: XmppControl;
  b: XmppControl;
  sub: MqttControl;
  pub: MqttControl;
  tick: number;
}

export async function makeRig(): Promise<Rig> {
  const world = makeWorld();
  const a = new XmppControl(world, '192.0.2.1');
  const b = new XmppControl(world, '192.0.2.2');
  await a.login('control-a', 'pw-a');
  await b.login('control-b', 'pw-b');
  const sub = new MqttControl(world, 5, '192.0.2.3');
  const pub = new MqttControl(world, 4, '192.0.2.4');
  await sub.connect('control-sub');
  await pub.connect('control-pub');
  sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'ctl/#', qos: 1 }] });
  await settle();
  return { world, a, b, sub, pub, tick: 0 };
}

const CONTROLS = 2;

interface BatchOutcome {
  problems: Omit<Finding, 'cases'>[];
  conditions: string[];
  closedByServer: number;
  negotiated: number;
}

/** Run one batch of cases on the rig; returns the problems seen (empty = fine). */
export async function runBatch(rig: Rig, cases: readonly FuzzCase[]): Promise<BatchOutcome> {
  const { world } = rig;
  const problems: Omit<Finding, 'cases'>[] = [];
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  const errorsBefore = world.errors.length;
  try {
    const conns = cases.map((c, i) => new RawConn(world, c.proto, `198.51.${(i >> 8) & 255}.${i & 255}`, 8, c.ws ?? null));
    conns.forEach((conn, i) => conn.write(cases[i]!.chunks));
    await settle();
    await world.advance(TIMEOUT_WAIT_MS);
    let closedByServer = 0;
    let negotiated = 0;
    const conditions: string[] = [];
    for (const conn of conns) {
      if (conn.closed) closedByServer++;
      else {
        negotiated++;
        conn.destroy();
      }
      const cond = conn.streamError();
      if (cond) {
        conditions.push(cond);
        if (cond === 'internal-server-error' || cond === 'undefined-condition') problems.push({ kind: 'bad_condition', detail: cond });
      }
    }
    await settle();
    await world.advance(600);
    const xmppLeft = world.xmpp.connections().length - CONTROLS;
    const mqttLeft = world.mqtt.broker.connectionCount - CONTROLS;
    const tracked = world.deps.liveness.size(FUZZ_DOMAIN) - 2 * CONTROLS;
    if (xmppLeft !== 0 || mqttLeft !== 0 || tracked !== 0) {
      problems.push({ kind: 'leak', detail: `left after the batch: xmpp ${xmppLeft}, mqtt ${mqttLeft}, tracked ${tracked}` });
    }
    problems.push(...(await checkControls(rig)));
    for (const e of world.errors.slice(errorsBefore)) problems.push({ kind: 'internal_error', detail: `${e.event ?? e.msg}: ${JSON.stringify(e.err ?? '')}`.slice(0, 500) });
    for (const e of uncaught) problems.push({ kind: 'uncaught', detail: String((e as Error)?.stack ?? e).slice(0, 500) });
    return { problems, conditions, closedByServer, negotiated };
  } finally {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
  }
}

/** The control clients still get their messages (both protocols) and keep their connections. */
async function checkControls(rig: Rig): Promise<Omit<Finding, 'cases'>[]> {
  const out: Omit<Finding, 'cases'>[] = [];
  const k = ++rig.tick;
  rig.a.message('control-b', `ctl-${k}`);
  rig.pub.send({ cmd: 'publish', topic: `ctl/${k}`, payload: Buffer.from(`m${k}`), qos: 1, retain: false, dup: false, messageId: 1 + (k % 65000) });
  const pings = rig.sub.pingresps;
  rig.sub.send({ cmd: 'pingreq' });
  await settle();
  if (!rig.b.messages.some((m) => childText(m, 'body') === `ctl-${k}`)) out.push({ kind: 'control', detail: `xmpp control message ${k} not delivered` });
  if (rig.b.messages.length > 16) rig.b.messages.splice(0, rig.b.messages.length - 16);
  if (!rig.sub.received.some((p) => p.cmd === 'publish' && p.topic === `ctl/${k}`)) out.push({ kind: 'control', detail: `mqtt control message ${k} not delivered` });
  if (rig.sub.pingresps !== pings + 1) out.push({ kind: 'control', detail: 'mqtt control PINGREQ not answered' });
  for (const [name, c] of [['a', rig.a], ['b', rig.b], ['sub', rig.sub], ['pub', rig.pub]] as const) {
    if (c.closed) out.push({ kind: 'control', detail: `control ${name} disconnected` });
  }
  return out;
}

export function controlPings(rig: Rig): number {
  return rig.b.pingsAnswered;
}

/** Replay cases one by one on fresh rigs; the ones that fail alone. */
async function isolate(cases: readonly FuzzCase[]): Promise<Finding[]> {
  const found: Finding[] = [];
  for (const c of cases) {
    const rig = await makeRig();
    const r = await runBatch(rig, [c]);
    rig.world.stop();
    for (const p of r.problems) found.push({ ...p, cases: [c] });
  }
  return found;
}

export function saveRegression(dir: string, f: Finding): string {
  const body = { kind: f.kind, detail: f.detail, cases: f.cases.map((c) => ({ proto: c.proto, n: c.n, ...(c.ws ? { ws: c.ws } : {}), chunks: c.chunks.map((b) => b.toString('base64')) })) };
  const text = JSON.stringify(body, null, 1);
  const proto = f.cases[0]?.proto ?? 'xmpp';
  mkdirSync(join(dir, proto), { recursive: true });
  const file = join(dir, proto, `${f.kind}-${createHash('sha1').update(text).digest('hex').slice(0, 10)}.json`);
  writeFileSync(file, text + '\n');
  return file;
}

export async function fuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const protos = opts.protos ?? ['xmpp', 'mqtt'];
  const batch = opts.batch ?? 32;
  const start = Date.now();
  const report: FuzzReport = { cases: 0, byProto: { xmpp: 0, mqtt: 0 }, wsCases: 0, ms: 0, findings: [], conditions: {}, closedByServer: 0, negotiated: 0, controlMessages: 0, controlPings: 0 };
  let rig = await makeRig();
  let pingsBefore = 0;
  let lastProgress = start;
  while (report.cases < opts.cases && Date.now() - start < opts.seconds * 1000) {
    const cases: FuzzCase[] = [];
    for (let i = 0; i < batch && report.cases + i < opts.cases; i++) cases.push(makeCase(opts.seed, report.cases + i, protos));
    const r = await runBatch(rig, cases);
    report.cases += cases.length;
    for (const c of cases) {
      report.byProto[c.proto]++;
      if (c.ws) report.wsCases++;
    }
    report.closedByServer += r.closedByServer;
    report.negotiated += r.negotiated;
    for (const c of r.conditions) report.conditions[c] = (report.conditions[c] ?? 0) + 1;
    if (r.problems.length === 0) report.controlMessages += 2;
    else {
      const isolated = await isolate(cases);
      const findings = isolated.length > 0 ? isolated : r.problems.map((p) => ({ ...p, cases }));
      for (const f of findings) {
        report.findings.push(f);
        if (opts.saveDir) saveRegression(opts.saveDir, f);
      }
      report.controlPings += controlPings(rig) - pingsBefore;
      rig.world.stop();
      rig = await makeRig();
      pingsBefore = 0;
    }
    if (opts.progress && Date.now() - lastProgress > 10_000) {
      lastProgress = Date.now();
      opts.progress({ ...report, ms: Date.now() - start, controlPings: report.controlPings + controlPings(rig) - pingsBefore });
    }
  }
  report.controlPings += controlPings(rig) - pingsBefore;
  rig.world.stop();
  report.ms = Date.now() - start;
  return report;
}
