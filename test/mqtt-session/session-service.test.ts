import { describe, expect, it } from 'vitest';
import { SessionWriter, type MessageCodec } from '../../src/mqtt-session/durable.js';
import { ExpiryHeap, type Expiring } from '../../src/mqtt-session/expiry-heap.js';
import { restoreSessions } from '../../src/mqtt-session/restore.js';
import { SessionService, type SessionSink } from '../../src/mqtt-session/session-service.js';
import { memorySessions } from '../../src/store/memory-sessions.js';
import type { SessionRepo } from '../../src/store/session-types.js';
import { ManualScheduler } from '../../src/time/manual.js';
import { limits, msg, type TestMsg } from './fixtures.js';

const H = 'example.com';

const codec: MessageCodec<TestMsg> = {
  encode: (m) => ({ topic: m.msg.topic, payload: Buffer.from(m.name), qos: m.qos, retain: false, properties: null, expiresAt: m.msg.expiresAt, senderId: '', subIds: null }),
  decode: (s) => msg(s.payload.toString(), s.qos, s.topic, s.expiresAt),
};

function sink(log: string[], tag: string): SessionSink<TestMsg> {
  return {
    publish: (id, m, dup) => log.push(`${tag} publish ${id} ${m.name}${dup ? ' dup' : ''}`),
    pubrel: (id) => log.push(`${tag} pubrel ${id}`),
  };
}

function service(repo: SessionRepo = memorySessions(), over = {}) {
  const scheduler = new ManualScheduler();
  const turn: (() => void)[] = [];
  const writer = new SessionWriter<TestMsg>({ repo, codec, defer: (fn) => turn.push(fn) });
  const deleted: string[] = [];
  const dropped: string[] = [];
  const svc = new SessionService<TestMsg, { qos: number }>({
    limitsOf: () => limits({ maxInflight: 2, sessionExpiryMs: 60_000, ...over }),
    clock: scheduler.clock,
    scheduler,
    writer,
    onDeleted: (k, filters) => deleted.push(`${k.clientId} ${filters.join(',')}`),
    onDrop: (_k, reason, m) => dropped.push(`${reason} ${m?.name ?? ''}`),
  });
  return { svc, scheduler, writer, repo, deleted, dropped, endTurn: () => turn.splice(0).forEach((fn) => fn()) };
}

describe('SessionService', () => {
  it('sends through the sink, queues while offline, resends on resume, and stores a persistent session', () => {
    const { svc, repo, endTurn } = service();
    const log: string[] = [];
    const a = svc.open({ host: H, clientId: 'c', cleanStart: false, version: 4 }, sink(log, 'A'));
    expect(a.present).toBe(false);
    a.handle.subscribe('t/#', { qos: 1 });
    svc.deliver(H, 'c', msg('m1'));
    svc.deliver(H, 'c', msg('m2'));
    svc.deliver(H, 'c', msg('m3'));
    endTurn();
    expect(log).toEqual(['A publish 1 m1', 'A publish 2 m2']);
    expect(repo.get(H, 'c')).toMatchObject({ inflight: [{ id: 1 }, { id: 2 }], queue: [{ seq: 1 }] });
    svc.close(a.handle, a.generation);
    svc.deliver(H, 'c', msg('m4'));
    const b = svc.open({ host: H, clientId: 'c', cleanStart: false, version: 4 }, sink(log, 'B'), (present) => log.push(`B connack ${present}`));
    expect(b.present).toBe(true);
    endTurn();
    expect(log.slice(2)).toEqual(['B connack true', 'B publish 1 m1 dup', 'B publish 2 m2 dup']);
    b.handle.puback(1);
    b.handle.puback(2);
    endTurn();
    expect(log.slice(5)).toEqual(['B publish 3 m3', 'B publish 4 m4']);
    expect(svc.figures(H, 'c')).toMatchObject({ connected: true, inflight: 2, queued: 0 });
  });

  it('ignores the close of a taken-over connection, detaches on the close of the newer one', () => {
    const { svc, endTurn } = service();
    const log: string[] = [];
    const a = svc.open({ host: H, clientId: 'c', cleanStart: false, version: 4 }, sink(log, 'A'));
    const b = svc.open({ host: H, clientId: 'c', cleanStart: false, version: 4 }, sink(log, 'B'));
    expect(b.handle).toBe(a.handle);
    svc.close(a.handle, a.generation);
    svc.deliver(H, 'c', msg('x'));
    endTurn();
    expect(log).toEqual(['B publish 1 x']);
    svc.close(b.handle, b.generation);
    expect(svc.figures(H, 'c')?.connected).toBe(false);
  });

  it('holds a PUBLISH or PUBREL until the state change behind it is durable (crash: no QoS 2 redelivery as new)', () => {
    const { svc, repo, endTurn } = service();
    const log: string[] = [];
    const a = svc.open({ host: H, clientId: 'c', cleanStart: false, version: 4 }, sink(log, 'A'));
    a.handle.subscribe('t/#', { qos: 2 });
    endTurn();
    svc.deliver(H, 'c', msg('q2', 2));
    expect(log).toEqual([]);
    endTurn();
    expect(log).toEqual(['A publish 1 q2']);
    a.handle.pubrec(1, 0);
    // The PUBREL must not reach the client before the store knows the message was received.
    expect(log).toEqual(['A publish 1 q2']);
    endTurn();
    expect(log).toEqual(['A publish 1 q2', 'A pubrel 1']);
    expect(repo.get(H, 'c')?.inflight).toMatchObject([{ id: 1 }]);
  });

  it('deletes a clean session at close and an expired one on the expiry timer, telling the trie', () => {
    const { svc, scheduler, repo, deleted, endTurn } = service();
    const clean = svc.open({ host: H, clientId: 'clean', cleanStart: true, version: 4 }, sink([], 'A'));
    clean.handle.subscribe('a', { qos: 0 });
    svc.close(clean.handle, clean.generation);
    expect(deleted).toEqual(['clean a']);
    expect(svc.handle(H, 'clean')).toBeUndefined();
    const p = svc.open({ host: H, clientId: 'p', cleanStart: false, version: 4 }, sink([], 'A'));
    p.handle.subscribe('b', { qos: 1 });
    svc.close(p.handle, p.generation);
    svc.deliver(H, 'p', msg('q'));
    endTurn();
    expect(repo.count()).toBe(1);
    scheduler.advance(59_999);
    expect(deleted).toEqual(['clean a']);
    scheduler.advance(1);
    expect(deleted).toEqual(['clean a', 'p b']);
    endTurn();
    expect(repo.count()).toBe(0);
    expect(svc.deliver(H, 'p', msg('late'))).toBe(false);
  });

  it('one handle per session: kept on resume and takeover, replaced on clean start (old filters out once), gone on discard', () => {
    const { svc, scheduler, deleted } = service();
    const a = svc.open({ host: H, clientId: 'c', cleanStart: false, version: 4 }, sink([], 'A'));
    a.handle.subscribe('f', { qos: 1 });
    const b = svc.open({ host: H, clientId: 'c', cleanStart: false, version: 4 }, sink([], 'B')); // takeover
    expect(b.handle).toBe(a.handle);
    expect(b.present).toBe(true);
    svc.close(a.handle, a.generation); // the old connection's late close: ignored
    expect(svc.handle(H, 'c')).toBe(b.handle);
    const c = svc.open({ host: H, clientId: 'c', cleanStart: true, version: 4 }, sink([], 'C'));
    expect(c.handle).not.toBe(b.handle);
    expect(deleted).toEqual(['c f']);
    svc.close(b.handle, b.generation); // the replaced handle's close: ignored
    expect(svc.handle(H, 'c')).toBe(c.handle);
    c.handle.receiveQos2(1); // arms await_rel
    expect(scheduler.pending).toBeGreaterThan(0);
    svc.discard(H, 'c');
    expect(deleted).toEqual(['c f', 'c ']);
    expect(scheduler.pending).toBe(0); // its await_rel timer went with it
    expect(svc.handle(H, 'c')).toBeUndefined();
    expect(svc.deliver(H, 'c', msg('x'))).toBe(false);
    svc.close(c.handle, c.generation);
    expect(deleted).toEqual(['c f', 'c ']);
  });

  it('counts drops through onDrop and releases acks only when durable', () => {
    const { svc, dropped, endTurn } = service(memorySessions(), { maxMqueueLen: 1 });
    const a = svc.open({ host: H, clientId: 'c', cleanStart: false, version: 4 }, sink([], 'A'));
    svc.close(a.handle, a.generation);
    svc.deliver(H, 'c', msg('m1'));
    svc.deliver(H, 'c', msg('m2'));
    expect(dropped).toEqual(['queue_full m1']);
    let acked = false;
    svc.whenDurable(() => (acked = true));
    expect(acked).toBe(false);
    endTurn();
    expect(acked).toBe(true);
  });

  it('comes back after a restart from the repo', () => {
    const repo = memorySessions();
    const first = service(repo);
    const a = first.svc.open({ host: H, clientId: 'c', cleanStart: false, version: 4 }, sink([], 'A'));
    a.handle.subscribe('t/#', { qos: 1 });
    first.svc.close(a.handle, a.generation);
    first.svc.deliver(H, 'c', msg('m1'));
    first.svc.shutdown();
    const second = service(repo);
    const r = restoreSessions(second.svc.manager, repo, codec, (o) => o as { qos: number }, second.scheduler.clock.now());
    second.svc.adoptRestored(r.effects);
    expect(r.subscriptions.map((s) => s.filter)).toEqual(['t/#']);
    const log: string[] = [];
    second.svc.open({ host: H, clientId: 'c', cleanStart: false, version: 4 }, sink(log, 'B'));
    expect(log).toEqual(['B publish 1 m1']);
  });
});

describe('ExpiryHeap', () => {
  it('pops in deadline order through random pushes and removals', () => {
    const heap = new ExpiryHeap<Expiring & { n: number }>();
    const all = Array.from({ length: 500 }, (_, n) => ({ n, heapIndex: -1, expiresAt: (n * 7919) % 1000 }));
    for (const e of all) heap.push(e);
    for (const e of all) if (e.n % 3 === 0) heap.remove(e);
    const out: number[] = [];
    for (let e = heap.pop(); e; e = heap.pop()) out.push(e.expiresAt!);
    expect(out).toHaveLength(all.filter((e) => e.n % 3 !== 0).length);
    expect(out).toEqual([...out].sort((a, b) => a - b));
  });
});
