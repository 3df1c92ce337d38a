/**
 * A session allocates its maps, queue, drop counters, timers and held sends on first use
 * (src/mqtt-session/session-state.ts, session-service.ts): a new clean session reads as empty through the
 * shared defaults, the first use of each part works as before, the shared defaults are never
 * written, and sessions of a host share one limits object while the limits stay equal.
 */
import { describe, expect, it } from 'vitest';
import { SessionManager } from '../../src/mqtt-session/manager.js';
import { SessionService, type SessionSink } from '../../src/mqtt-session/session-service.js';
import { MqttSession } from '../../src/mqtt-session/session-state.js';
import { DEFAULT_LIMITS } from '../../src/mqtt-session/limits.js';
import type { SessionLimits } from '../../src/mqtt-session/types.js';
import { ManualScheduler } from '../../src/time/manual.js';
import { drops, limits, msg, sent, timers, type TestMsg } from './fixtures.js';

const T0 = 1_700_000_000_000;
const H = 'example.com';

describe('lazily allocated session parts', () => {
  it('a new session reads as empty and offline', () => {
    const s = new MqttSession<TestMsg>(limits(), false);
    expect(s.link).toEqual({ state: 'offline' });
    expect(s.online).toBe(false);
    expect([s.inflight.size, s.awaitingRel.size, s.subscriptions.size, s.queue.length]).toEqual([0, 0, 0, 0]);
    expect(s.queue.entries()).toEqual([]);
    expect(s.drops).toEqual({ queue_full: 0, qos0_not_queued: 0, expired: 0, awaiting_rel_full: 0, await_rel_timeout: 0 });
    expect(s.figures()).toMatchObject({ connected: false, inflight: 0, queued: 0, awaitingRel: 0, subscriptions: 0, dropped: 0, window: 0 });
    expect(s.attach({ version: 5, receiveMaximum: 10 }, T0)).toEqual([]);
    expect(s.link).toEqual({ state: 'online', version: 5, window: 10 });
    expect(s.detach()).toEqual([]);
    expect(s.link).toEqual({ state: 'offline' });
  });

  it('the shared empty parts are never written, whatever a session does', () => {
    const a = new MqttSession<TestMsg, { qos: number }>(limits({ maxInflight: 1, maxAwaitingRel: 1 }), false);
    const b = new MqttSession<TestMsg, { qos: number }>(limits(), false);
    const emptyMap = b.subscriptions;
    expect(() => (emptyMap as Map<string, unknown>).set('x', 1)).toThrow(TypeError);
    a.attach({ version: 4 }, T0);
    a.subscribe('t/#', { qos: 1 });
    a.deliver(msg('m1'), T0);
    a.deliver(msg('m2'), T0); // window full: queued
    a.receiveQos2(7, T0);
    a.receiveQos2(8, T0); // over max_awaiting_rel: dropped
    expect([a.subscriptions.size, a.inflight.size, a.queue.length, a.awaitingRel.size, a.drops.awaiting_rel_full]).toEqual([1, 1, 1, 1, 1]);
    expect([b.subscriptions.size, b.inflight.size, b.queue.length, b.awaitingRel.size, b.drops.awaiting_rel_full]).toEqual([0, 0, 0, 0, 0]);
    expect(new MqttSession<TestMsg>(limits(), false).drops.awaiting_rel_full).toBe(0);
  });

  it('first use of each part after lazy init: subscribe, send, queue, QoS 2 receive, drop', () => {
    const s = new MqttSession<TestMsg, { qos: number }>(limits({ maxInflight: 1 }), true);
    expect(s.unsubscribe('none').verdict).toBe(false);
    expect(s.puback(1, T0)).toEqual([]);
    expect(s.pubrel(1).verdict).toBe(false);
    expect(s.subscribe('a/#', { qos: 2 }).verdict).toEqual({ existed: false });
    expect(s.subscriptions.get('a/#')).toEqual({ qos: 2 });
    // Offline: the first message goes into a queue made for it.
    s.deliver(msg('q1'), T0);
    expect(s.queue.entries().map((e) => e.msg.name)).toEqual(['q1']);
    expect(sent(s.attach({ version: 4 }, T0))).toEqual(['publish 1 q1']);
    expect(sent(s.puback(1, T0))).toEqual([]);
    const r = s.receiveQos2(3, T0);
    expect(r.verdict).toBe('accepted');
    expect(timers(r.effects)).toEqual([`arm await_rel ${limits().awaitRelTimeoutMs}`]);
    expect(s.pubrel(3).verdict).toBe(true);
    expect(drops(s.deliver(msg('old', 1, 't', T0 - 1), T0))).toEqual(['expired old']);
    expect(s.figures().droppedExpired).toBe(1);
  });

  it('restores into lazily made parts', () => {
    const s = new MqttSession<TestMsg, { qos: number }>(limits({ maxInflight: 1 }), true);
    s.restoreSubscription('x', { qos: 1 });
    s.restoreInflight(5, 'await_puback', msg('i'));
    s.restoreQueued(9, msg('q'));
    s.restoreAwaitingRel(2, T0);
    expect(sent(s.attach({ version: 4 }, T0))).toEqual(['publish 5 i dup']);
    expect(s.figures()).toMatchObject({ subscriptions: 1, inflight: 1, queued: 1, awaitingRel: 1 });
    expect(sent(s.puback(5, T0))).toEqual(['publish 6 q']);
  });

  it('sessions of a host share one limits object while the limits stay equal', () => {
    let maxInflight = 4;
    const m = new SessionManager<TestMsg>(() => limits({ maxInflight })); // a new object per call
    const a = m.open({ host: H, clientId: 'a', cleanStart: true, version: 4 }, T0);
    const b = m.open({ host: H, clientId: 'b', cleanStart: true, version: 4 }, T0);
    const limitsOf = (s: MqttSession<TestMsg>) => (s as unknown as { limits: object }).limits;
    expect(limitsOf(a.session)).toBe(limitsOf(b.session));
    maxInflight = 2;
    const c = m.open({ host: H, clientId: 'c', cleanStart: true, version: 4 }, T0);
    expect(limitsOf(c.session)).not.toBe(limitsOf(a.session));
    expect(c.session.link).toEqual({ state: 'online', version: 4, window: 2 });
    expect(a.entry.key).toEqual({ host: H, clientId: 'a' });
  });

  it('a change in any one limit is seen (the sharing compares every field of SessionLimits)', () => {
    const changed = (k: keyof SessionLimits): Partial<SessionLimits> => {
      const v = DEFAULT_LIMITS[k];
      if (typeof v === 'number') return { [k]: v + 1 };
      if (typeof v === 'boolean') return { [k]: !v };
      if (k === 'mqueueDefaultPriority') return { [k]: v === 'lowest' ? 'highest' : 'lowest' };
      return { [k]: { 'a/b': 7 } };
    };
    for (const k of Object.keys(DEFAULT_LIMITS) as (keyof SessionLimits)[]) {
      let over: Partial<SessionLimits> = {};
      const m = new SessionManager<TestMsg>(() => limits(over));
      const a = m.open({ host: H, clientId: 'a', cleanStart: true, version: 4 }, T0);
      over = changed(k);
      const b = m.open({ host: H, clientId: 'b', cleanStart: true, version: 4 }, T0);
      const limitsOf = (s: MqttSession<TestMsg>) => (s as unknown as { limits: SessionLimits }).limits;
      expect(limitsOf(b.session)[k], k).toEqual(over[k]);
      expect(limitsOf(a.session)[k], k).toEqual(DEFAULT_LIMITS[k]);
    }
  });
});

describe('lazily made handle timers and held sends', () => {
  const sink = (log: string[]): SessionSink<TestMsg> => ({
    publish: (id, m) => log.push(`publish ${id} ${m.name}`),
    pubrel: (id) => log.push(`pubrel ${id}`),
  });

  it('a clean session arms its first timer on first QoS 2 receive, and it fires', () => {
    const scheduler = new ManualScheduler();
    const svc = new SessionService<TestMsg>({ limitsOf: () => limits({ awaitRelTimeoutMs: 1_000 }), clock: scheduler.clock, scheduler, writer: null });
    const log: string[] = [];
    const { handle, generation } = svc.open({ host: H, clientId: 'c', cleanStart: true, version: 4 }, sink(log));
    expect(scheduler.pending).toBe(0);
    expect(handle.receiveQos2(1)).toBe('accepted');
    expect(scheduler.pending).toBe(1);
    scheduler.advance(1_000);
    expect(handle.session.figures()).toMatchObject({ awaitingRel: 0, droppedAwaitRelTimeout: 1 });
    handle.deliver(msg('m'));
    expect(log).toEqual(['publish 1 m']);
    svc.close(handle, generation);
    expect(scheduler.pending).toBe(0);
    expect(svc.handle(H, 'c')).toBeUndefined();
  });
});
