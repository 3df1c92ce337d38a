import { describe, expect, it } from 'vitest';
import { MqttSession } from '../../src/mqtt-session/session-state.js';
import type { SessionLimits } from '../../src/mqtt-session/types.js';
import { drops, limits, msg, sent, timers, writes, type TestMsg } from './fixtures.js';

const T0 = 1_700_000_000_000;

function online(over: Partial<SessionLimits> = {}, version: 3 | 4 | 5 = 5, receiveMaximum?: number, persistent = true) {
  const s = new MqttSession<TestMsg>(limits(over), persistent);
  s.attach(receiveMaximum === undefined ? { version } : { version, receiveMaximum }, T0);
  return s;
}

describe('outbound window and queue', () => {
  it('sends up to the window, queues the rest, and acks drain the queue in order', () => {
    const s = online({ maxInflight: 2 });
    const out = ['a', 'b', 'c', 'd'].flatMap((n) => sent(s.deliver(msg(n), T0)));
    expect(out).toEqual(['publish 1 a', 'publish 2 b']);
    expect(s.figures()).toMatchObject({ inflight: 2, queued: 2, window: 2 });
    expect(sent(s.puback(2, T0))).toEqual(['publish 3 c']);
    expect(sent(s.puback(1, T0))).toEqual(['publish 4 d']);
    expect(sent(s.puback(3, T0))).toEqual([]);
    expect(s.figures()).toMatchObject({ inflight: 1, queued: 0 });
  });

  it('keeps order when the window frees while messages are queued', () => {
    const s = online({ maxInflight: 1 });
    s.deliver(msg('a'), T0);
    s.deliver(msg('b'), T0);
    // a slot frees and a new message arrives: the queued one goes first
    expect(sent(s.puback(1, T0))).toEqual(['publish 2 b']);
    expect(sent(s.deliver(msg('c'), T0))).toEqual([]);
    expect(sent(s.puback(2, T0))).toEqual(['publish 3 c']);
  });

  it('uses the v5 Receive Maximum when smaller than max_inflight, max_inflight otherwise', () => {
    expect(online({ maxInflight: 32 }, 5, 3).figures().window).toBe(3);
    expect(online({ maxInflight: 4 }, 5, 100).figures().window).toBe(4);
    expect(online({ maxInflight: 32 }, 4).figures().window).toBe(32);
  });

  it('sends QoS 0 at once while online, even behind a full window', () => {
    const s = online({ maxInflight: 1 });
    s.deliver(msg('a'), T0);
    expect(sent(s.deliver(msg('z', 0), T0))).toEqual(['publish 0 z']);
  });

  it('takes a QoS 2 message through PUBREC/PUBREL/PUBCOMP and frees the slot only at PUBCOMP', () => {
    const s = online({ maxInflight: 1 });
    s.deliver(msg('a', 2), T0);
    s.deliver(msg('b', 2), T0);
    const rec = s.pubrec(1, 0, T0);
    expect(sent(rec)).toEqual(['pubrel 1']);
    expect(writes(rec)).toEqual(['inflight_phase 1 await_pubcomp']);
    expect(s.figures()).toMatchObject({ inflight: 1, awaitingComp: 1, queued: 1 });
    expect(sent(s.puback(1, T0))).toEqual([]); // wrong ack for the phase: ignored
    expect(sent(s.pubcomp(1, T0))).toEqual(['publish 2 b']);
  });

  it('ends a QoS 2 flow on a v5 PUBREC >= 0x80 [MQTT-4.4.0-2] and answers an unknown PUBREC with 0x92', () => {
    const s = online({ maxInflight: 1 });
    s.deliver(msg('a', 2), T0);
    s.deliver(msg('b', 2), T0);
    expect(sent(s.pubrec(1, 0x80, T0))).toEqual(['publish 2 b']);
    expect(sent(s.pubrec(999, 0, T0))).toEqual(['pubrel 999 0x92']);
    const v3 = online({}, 4);
    expect(sent(v3.pubrec(5, 0, T0))).toEqual(['pubrel 5']);
  });

  it('writes inflight and queue changes for a persistent session, nothing for a clean one', () => {
    const s = online({ maxInflight: 1 });
    expect(writes(s.deliver(msg('a'), T0))).toEqual(['inflight_put 1 a']);
    expect(writes(s.deliver(msg('b'), T0))).toEqual(['queue_put 1 b']);
    expect(writes(s.puback(1, T0))).toEqual(['inflight_del 1', 'queue_del 1', 'inflight_put 2 b']);
    const clean = online({ maxInflight: 1 }, 5, undefined, false);
    const all = [clean.deliver(msg('a'), T0), clean.deliver(msg('b'), T0), clean.puback(1, T0)].flat();
    expect(writes(all)).toEqual([]);
  });

  it('drops an expired message instead of sending it, also from the queue', () => {
    const s = online({ maxInflight: 1 });
    expect(drops(s.deliver(msg('old', 1, 't', T0), T0))).toEqual(['expired old']);
    s.deliver(msg('a'), T0);
    s.deliver(msg('soon', 1, 't', T0 + 10), T0);
    s.deliver(msg('b'), T0);
    const fx = s.puback(1, T0 + 20);
    expect(drops(fx)).toEqual(['expired soon']);
    expect(sent(fx)).toEqual(['publish 2 b']);
    expect(s.figures().droppedExpired).toBe(2);
  });
});

describe('packet ids', () => {
  it('wraps 65535 -> 1 and skips ids still in use [MQTT-2.2.1-3]', () => {
    const s = new MqttSession<TestMsg>(limits({ maxInflight: 10 }), true);
    s.restoreInflight(1, 'await_puback', msg('held1'));
    s.restoreInflight(65_534, 'await_puback', msg('held2'));
    s.attach({ version: 4 }, T0);
    const out = ['x', 'y', 'z'].flatMap((n) => sent(s.deliver(msg(n), T0)));
    expect(out).toEqual(['publish 65535 x', 'publish 2 y', 'publish 3 z']);
    s.puback(65_535, T0);
    expect(sent(s.deliver(msg('w'), T0))).toEqual(['publish 4 w']);
  });

  it('never hands out an id twice over a full cycle of the id space', () => {
    const s = online({ maxInflight: 5 });
    const seen = new Set<number>();
    const held: number[] = []; // keep a few ids in use across the wrap
    let clash = 0;
    for (let i = 0; i < 70_000; i++) {
      for (const e of s.deliver(msg('m'), T0)) {
        if (e.type !== 'publish') continue;
        if (held.includes(e.id)) clash++;
        seen.add(e.id);
        if (held.length < 3) held.push(e.id);
        else s.puback(e.id, T0);
      }
    }
    expect(clash).toBe(0);
    expect(held).toEqual([1, 2, 3]);
    expect(seen.size).toBe(65_535);
    expect(seen.has(0)).toBe(false);
  });
});

describe('resume', () => {
  it('resends inflight with DUP=1 and the same ids, PUBREL for await_pubcomp [MQTT-4.4.0-1], then drains the queue', () => {
    const s = online({ maxInflight: 3 });
    s.deliver(msg('a', 1), T0);
    s.deliver(msg('b', 2), T0);
    s.deliver(msg('c', 2), T0);
    s.pubrec(2, 0, T0);
    s.detach();
    expect(s.figures().connected).toBe(false);
    expect(sent(s.deliver(msg('d'), T0))).toEqual([]); // offline: queued
    s.deliver(msg('e'), T0);
    expect(s.figures()).toMatchObject({ inflight: 3, queued: 2 });
    const fx = s.attach({ version: 5 }, T0 + 1000);
    expect(sent(fx)).toEqual(['publish 1 a dup', 'pubrel 2', 'publish 3 c dup']);
    s.puback(1, T0);
    expect(sent(s.pubcomp(2, T0))).toEqual(['publish 5 e']);
    expect(s.figures()).toMatchObject({ inflight: 3, queued: 0 });
  });

  it('drains a long offline queue through a smaller window in order', () => {
    const s = online({ maxInflight: 10 });
    s.detach();
    for (let i = 0; i < 1000; i++) s.deliver(msg(`m${i}`), T0);
    const got: string[] = [];
    let fx = s.attach({ version: 5, receiveMaximum: 7 }, T0);
    for (;;) {
      const pubs = fx.filter((e) => e.type === 'publish');
      if (pubs.length === 0) break;
      fx = [];
      for (const e of pubs) if (e.type === 'publish') {
        got.push(e.msg.name);
        fx.push(...s.puback(e.id, T0));
      }
    }
    expect(got).toEqual(Array.from({ length: 1000 }, (_, i) => `m${i}`));
  });
});

describe('inbound QoS 2 (awaiting PUBREL)', () => {
  it('accepts, answers duplicates without routing again, forgets on PUBREL', () => {
    const s = online();
    const first = s.receiveQos2(7, T0);
    expect(first.verdict).toBe('accepted');
    expect(writes(first.effects)).toEqual(['rel_put 7']);
    expect(timers(first.effects)).toEqual(['arm await_rel 300000']);
    expect(s.receiveQos2(7, T0).verdict).toBe('duplicate');
    const rel = s.pubrel(7);
    expect(rel.verdict).toBe(true);
    expect(timers(rel.effects)).toEqual(['cancel await_rel']);
    expect(s.pubrel(7).verdict).toBe(false);
  });

  it('refuses past max_awaiting_rel and counts the drop', () => {
    const s = online({ maxAwaitingRel: 2 });
    expect(s.receiveQos2(1, T0).verdict).toBe('accepted');
    expect(s.receiveQos2(2, T0).verdict).toBe('accepted');
    const third = s.receiveQos2(3, T0);
    expect(third.verdict).toBe('refused');
    expect(drops(third.effects)).toEqual(['awaiting_rel_full']);
    expect(s.figures()).toMatchObject({ awaitingRel: 2, droppedAwaitingRelFull: 1 });
    s.pubrel(1);
    expect(s.receiveQos2(3, T0).verdict).toBe('accepted');
  });

  it('forgets ids older than await_rel_timeout when the timer fires, and re-arms for the next', () => {
    const s = online({ awaitRelTimeoutMs: 1000 });
    s.receiveQos2(1, T0);
    s.receiveQos2(2, T0 + 400);
    const fx = s.timeout('await_rel', T0 + 1000);
    expect(drops(fx)).toEqual(['await_rel_timeout']);
    expect(timers(fx)).toEqual(['arm await_rel 400']);
    expect(writes(fx)).toEqual(['rel_del 1']);
    expect(s.pubrel(1).verdict).toBe(false);
    expect(drops(s.timeout('await_rel', T0 + 1400))).toEqual(['await_rel_timeout']);
    expect(s.figures().awaitingRel).toBe(0);
  });

  it('checks await_rel deadlines again when an offline session is resumed', () => {
    const s = online({ awaitRelTimeoutMs: 1000 });
    s.receiveQos2(1, T0);
    s.receiveQos2(2, T0 + 900);
    expect(timers(s.detach())).toEqual(['cancel await_rel']);
    const fx = s.attach({ version: 5 }, T0 + 1500);
    expect(drops(fx)).toEqual(['await_rel_timeout']);
    expect(timers(fx)).toEqual(['arm await_rel 400']);
  });
});

describe('v3 timed retry', () => {
  it('resends unacked messages with DUP after retry_interval, doubling each time', () => {
    const s = online({ retryIntervalMs: 1000 }, 4);
    expect(timers(s.deliver(msg('a'), T0))).toEqual(['arm retry 1000']);
    let fx = s.timeout('retry', T0 + 1000);
    expect(sent(fx)).toEqual(['publish 1 a dup']);
    expect(timers(fx)).toEqual(['arm retry 2000']);
    fx = s.timeout('retry', T0 + 3000);
    expect(sent(fx)).toEqual(['publish 1 a dup']);
    expect(timers(fx)).toEqual(['arm retry 4000']);
    expect(timers(s.puback(1, T0 + 3500))).toEqual(['cancel retry']);
  });

  it('resends PUBREL for await_pubcomp and keeps per-message intervals', () => {
    const s = online({ retryIntervalMs: 1000 }, 4);
    s.deliver(msg('a', 2), T0);
    s.deliver(msg('b', 1), T0 + 500);
    s.pubrec(1, 0, T0 + 600); // PUBREL sent, its clock restarts: due at 1600
    let fx = s.timeout('retry', T0 + 1500);
    expect(sent(fx)).toEqual(['publish 2 b dup']);
    expect(timers(fx)).toEqual(['arm retry 100']);
    fx = s.timeout('retry', T0 + 1600);
    expect(sent(fx)).toEqual(['pubrel 1']);
  });

  it('never retries inside a live v5 connection [MQTT-4.4.0-1], nor when retry_interval is 0', () => {
    const v5 = online({ retryIntervalMs: 1000 }, 5);
    expect(timers(v5.deliver(msg('a'), T0))).toEqual([]);
    expect(sent(v5.timeout('retry', T0 + 5000))).toEqual([]);
    const off = online({}, 4);
    expect(timers(off.deliver(msg('a'), T0))).toEqual([]);
  });
});

describe('subscriptions', () => {
  it('adds, replaces and removes, writing through for a persistent session', () => {
    const s = online();
    const a = s.subscribe('a/#', { qos: 1 });
    expect(a.verdict.existed).toBe(false);
    expect(writes(a.effects)).toEqual(['sub_put a/#']);
    expect(s.subscribe('a/#', { qos: 2 }).verdict.existed).toBe(true);
    expect(s.subscriptions.get('a/#')).toEqual({ qos: 2 });
    expect(writes(s.unsubscribe('a/#').effects)).toEqual(['sub_del a/#']);
    expect(s.unsubscribe('a/#').verdict).toBe(false);
  });
});
