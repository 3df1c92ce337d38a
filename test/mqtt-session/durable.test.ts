import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionWriter, type MessageCodec } from '../../src/mqtt-session/durable.js';
import { SessionManager } from '../../src/mqtt-session/manager.js';
import { restoreSessions } from '../../src/mqtt-session/restore.js';
import { SessionTimers } from '../../src/mqtt-session/timers.js';
import { memorySessions } from '../../src/store/memory-sessions.js';
import type { SessionOp, SessionRepo } from '../../src/store/session-types.js';
import { SESSIONS_MIGRATION, sqliteSessions } from '../../src/store/sqlite/sessions.js';
import { ManualScheduler } from '../../src/time/manual.js';
import { limits, msg, sent, type TestMsg } from './fixtures.js';
import { tempDataDir } from '../store/temp-dir.js';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';

const T0 = 1_700_000_000_000;
const H = 'example.com';
const key = { host: H, clientId: 'c' };

const codec: MessageCodec<TestMsg> = {
  encode: (m) => ({ topic: m.msg.topic, payload: Buffer.from(m.name), qos: m.qos, retain: false, properties: null, expiresAt: m.msg.expiresAt, senderId: '', subIds: null }),
  decode: (s) => msg(s.payload.toString(), s.qos, s.topic, s.expiresAt),
};

/** A repo that records each batch it applies. */
function spying(repo: SessionRepo): SessionRepo & { batches: SessionOp[][] } {
  const batches: SessionOp[][] = [];
  return { ...repo, batches, apply: (ops) => (batches.push([...ops]), repo.apply(ops)) };
}

function setup(repo: SessionRepo = memorySessions()) {
  const turn: (() => void)[] = [];
  const spy = spying(repo);
  const writer = new SessionWriter<TestMsg>({ repo: spy, codec, defer: (fn) => turn.push(fn) });
  const endTurn = () => turn.splice(0).forEach((fn) => fn());
  return { spy, writer, endTurn };
}

describe('SessionWriter', () => {
  it('groups one turn of writes into one transaction and releases waiters after it', () => {
    const { spy, writer, endTurn } = setup();
    const done: string[] = [];
    writer.record([{ type: 'session_put', key, meta: { expiryMs: 1000, expiresAt: null } }]);
    writer.write(key, { kind: 'queue_put', seq: 1, msg: msg('a') });
    writer.whenDurable((err) => done.push(`first ${err}`));
    writer.write(key, { kind: 'queue_put', seq: 2, msg: msg('b') });
    writer.whenDurable((err) => done.push(`second ${err}`));
    expect(done).toEqual([]);
    expect(spy.batches).toHaveLength(0);
    endTurn();
    expect(spy.batches.map((b) => b.length)).toEqual([3]);
    expect(done).toEqual(['first null', 'second null']);
    expect(spy.get(H, 'c')!.queue.map((q) => q.seq)).toEqual([1, 2]);
  });

  it('answers at once when nothing is pending', () => {
    const { writer } = setup();
    let called = false;
    writer.whenDurable(() => (called = true));
    expect(called).toBe(true);
  });

  it('never writes rows created and removed in the same turn, but keeps a sub_del', () => {
    const { spy, writer, endTurn } = setup();
    writer.record([{ type: 'session_put', key, meta: { expiryMs: 1000, expiresAt: null } }]);
    writer.write(key, { kind: 'queue_put', seq: 1, msg: msg('a') });
    writer.write(key, { kind: 'queue_del', seq: 1 });
    writer.write(key, { kind: 'inflight_put', id: 1, phase: 'await_pubrec', msg: msg('b', 2) });
    writer.write(key, { kind: 'inflight_phase', id: 1, phase: 'await_pubcomp' });
    writer.write(key, { kind: 'inflight_put', id: 2, phase: 'await_puback', msg: msg('c') });
    writer.write(key, { kind: 'inflight_del', id: 2 });
    writer.write(key, { kind: 'sub_put', filter: 'f', opts: { qos: 1 } });
    writer.write(key, { kind: 'sub_del', filter: 'f' });
    endTurn();
    expect(spy.batches[0]!.map((o) => o.op)).toEqual(['session_put', 'inflight_put', 'sub_del']);
    expect(spy.get(H, 'c')!.inflight).toMatchObject([{ id: 1, phase: 'await_pubcomp' }]);
    expect(writer.stats.saved).toBe(6);
  });

  it('passes a failed transaction to the waiters (no acknowledgement then)', () => {
    const failing: SessionRepo = { ...memorySessions(), apply: () => { throw new Error('disk full'); } };
    const { writer, endTurn } = setup(failing);
    const errs: (string | undefined)[] = [];
    writer.write(key, { kind: 'queue_put', seq: 1, msg: msg('a') });
    writer.whenDurable((err) => errs.push(err?.message));
    endTurn();
    expect(errs).toEqual(['disk full']);
  });
});

describe('persistent sessions across a restart (SQLite file)', () => {
  const tmp = tempDataDir('vigil-sessions-');
  afterEach(() => tmp.cleanup());

  function open() {
    mkdirSync(tmp.dir, { recursive: true });
    const db = new Database(join(tmp.dir, 'sessions.db'));
    db.pragma('journal_mode = WAL');
    if (!db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'mqtt_sessions'").get()) db.exec(SESSIONS_MIGRATION.sql);
    return { db, repo: sqliteSessions(db) };
  }

  function server(repo: SessionRepo, nowMs: number) {
    const manager = new SessionManager<TestMsg, { qos: number }>(() => limits({ maxInflight: 10, awaitRelTimeoutMs: 60_000 }));
    const restored = restoreSessions(manager, repo, codec, (o) => o as { qos: number }, nowMs);
    const { writer, endTurn } = setup(repo);
    return { manager, writer, endTurn, restored };
  }

  it('an offline subscriber gets 1000 QoS 1 messages in order after a restart, then inflight resent with DUP and the same ids', () => {
    let { db, repo } = open();
    let s = server(repo, T0);
    const first = s.manager.open({ host: H, clientId: 'c', cleanStart: false, version: 4 }, T0);
    s.writer.record(first.effects);
    s.writer.record(first.session.subscribe('t/#', { qos: 1 }).effects.map((effect) => ({ type: 'session', key, effect })));
    s.writer.record(s.manager.close(H, 'c', T0));
    for (let i = 0; i < 1000; i++) {
      s.writer.record(first.session.deliver(msg(`m${i}`), T0).map((effect) => ({ type: 'session', key, effect })));
      if (i % 100 === 99) s.endTurn();
    }
    s.endTurn();
    db.close(); // restart
    ({ db, repo } = open());
    s = server(repo, T0 + 1000);
    expect(s.restored.sessions).toBe(1);
    expect(s.restored.subscriptions).toEqual([{ key, filter: 't/#', opts: { qos: 1 } }]);
    const again = s.manager.open({ host: H, clientId: 'c', cleanStart: false, version: 4 }, T0 + 2000);
    expect(again.present).toBe(true);
    const got: string[] = [];
    let fx = again.effects.flatMap((e) => (e.type === 'session' ? [e.effect] : []));
    s.writer.record(again.effects);
    let acked = 0;
    while (got.length < 1000) {
      const pubs = fx.filter((e) => e.type === 'publish');
      expect(pubs.length).toBeGreaterThan(0);
      fx = [];
      for (const p of pubs) {
        if (p.type !== 'publish') continue;
        got.push(p.msg.name);
        if (got.length > 994) continue; // m994..m999 stay unacknowledged
        const out = again.session.puback(p.id, T0 + 3000);
        acked++;
        s.writer.record(out.map((effect) => ({ type: 'session', key, effect })));
        fx.push(...out);
      }
      s.endTurn();
    }
    expect(acked).toBe(994);
    expect(got).toEqual(Array.from({ length: 1000 }, (_, i) => `m${i}`));
    const inflightIds = [...again.session.inflight.keys()];
    db.close(); // crash with six unacknowledged
    ({ db, repo } = open());
    s = server(repo, T0 + 5000);
    const third = s.manager.open({ host: H, clientId: 'c', cleanStart: false, version: 4 }, T0 + 6000);
    const resent = sent(third.effects.flatMap((e) => (e.type === 'session' ? [e.effect] : [])));
    expect(resent).toEqual(inflightIds.map((id, i) => `publish ${id} m${994 + i} dup`));
    db.close();
  });

  it('keeps awaiting-rel ids across a restart, so a resent PUBLISH is not routed twice [MQTT-4.3.3-9]', () => {
    let { db, repo } = open();
    let s = server(repo, T0);
    const a = s.manager.open({ host: H, clientId: 'c', cleanStart: false, version: 5, sessionExpiryS: 3600 }, T0);
    s.writer.record(a.effects);
    s.writer.record(a.session.receiveQos2(42, T0).effects.map((effect) => ({ type: 'session', key, effect })));
    s.endTurn();
    db.close();
    ({ db, repo } = open());
    s = server(repo, T0 + 10);
    const b = s.manager.open({ host: H, clientId: 'c', cleanStart: false, version: 5, sessionExpiryS: 3600 }, T0 + 20);
    expect(b.session.receiveQos2(42, T0 + 30).verdict).toBe('duplicate');
    expect(b.session.pubrel(42).verdict).toBe(true);
    db.close();
  });
});

describe('session timers on the manual scheduler', () => {
  it('arms await_rel and retry on the scheduler and feeds their expiry back', () => {
    const scheduler = new ManualScheduler();
    const clock = scheduler.clock;
    const manager = new SessionManager<TestMsg>(() => limits({ awaitRelTimeoutMs: 5_000, retryIntervalMs: 1_000 }));
    const log: string[] = [];
    const timers = new SessionTimers(scheduler, (t) => run(session.timeout(t, clock.now())));
    const run = (fx: ReturnType<typeof session.deliver>) => {
      for (const e of fx) if (!timers.apply(e)) log.push(...sent([e]));
    };
    const opened = manager.open({ host: H, clientId: 'c', cleanStart: true, version: 4 }, clock.now());
    const session = opened.session;
    run(session.deliver(msg('a'), clock.now()));
    run(session.receiveQos2(9, clock.now()).effects);
    scheduler.advance(1_000);
    scheduler.advance(2_000);
    expect(log).toEqual(['publish 1 a', 'publish 1 a dup', 'publish 1 a dup']);
    expect(session.figures().awaitingRel).toBe(1);
    scheduler.advance(2_000);
    expect(session.figures()).toMatchObject({ awaitingRel: 0, droppedAwaitRelTimeout: 1 });
    run(session.puback(1, clock.now()));
    scheduler.advance(60_000);
    expect(log).toHaveLength(3);
    expect(scheduler.pending).toBe(0);
  });
});
