/**
 * Randomised check of the session against its invariants: QoS 1/2 messages through random acks,
 * disconnects and resumes (with a changing Receive Maximum) reach the client exactly in order
 * (first deliveries), every one of them, with unique ids in flight and never more new sends than
 * the window allows. Seeded, so a failure replays.
 */
import { describe, expect, it } from 'vitest';
import { MqttSession } from '../../src/mqtt-session/session-state.js';
import type { SessionEffect } from '../../src/mqtt-session/types.js';
import { limits, msg, type TestMsg } from './fixtures.js';

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function run(seed: number): void {
  const rnd = prng(seed);
  const s = new MqttSession<TestMsg>(limits({ maxInflight: 8, maxMqueueLen: 100_000 }), true);
  const firstSeen: string[] = [];
  const seen = new Set<string>();
  /** What the client owes an answer to: id -> 'puback' | 'pubrec' | 'pubcomp'. */
  const owed = new Map<number, 'puback' | 'pubrec' | 'pubcomp'>();
  let online = false;
  let window = 0;
  const take = (fx: SessionEffect<TestMsg>[]) => {
    for (const e of fx) {
      if (e.type === 'publish') {
        expect(online).toBe(true);
        if (!e.dup) {
          expect(owed.has(e.id)).toBe(false); // a new PUBLISH never reuses an id in flight
          expect(s.inflight.size).toBeLessThanOrEqual(window);
        }
        if (!seen.has(e.msg.name)) {
          seen.add(e.msg.name);
          firstSeen.push(e.msg.name);
        }
        owed.set(e.id, e.msg.qos === 1 ? 'puback' : 'pubrec');
      } else if (e.type === 'pubrel') owed.set(e.id, 'pubcomp');
    }
  };
  const attach = () => {
    const receiveMaximum = 1 + Math.floor(rnd() * 10);
    window = Math.min(8, receiveMaximum);
    online = true;
    owed.clear(); // the client forgets nothing in reality, but the server resends all it must
    take(s.attach({ version: 5, receiveMaximum }, 0));
  };
  attach();
  let n = 0;
  for (let step = 0; step < 3000; step++) {
    const r = rnd();
    if (r < 0.45) take(s.deliver(msg(`m${n++}`, rnd() < 0.5 ? 1 : 2), 0));
    else if (r < 0.9 && online && owed.size > 0) {
      const ids = [...owed.keys()];
      const id = ids[Math.floor(rnd() * ids.length)]!;
      const what = owed.get(id)!;
      owed.delete(id);
      take(what === 'puback' ? s.puback(id, 0) : what === 'pubrec' ? s.pubrec(id, 0, 0) : s.pubcomp(id, 0));
    } else if (r < 0.95 && online) {
      online = false;
      s.detach();
    } else if (!online) attach();
  }
  if (!online) attach();
  for (let guard = 0; owed.size > 0 && guard < 1_000_000; guard++) {
    const [id, what] = owed.entries().next().value!;
    owed.delete(id);
    take(what === 'puback' ? s.puback(id, 0) : what === 'pubrec' ? s.pubrec(id, 0, 0) : s.pubcomp(id, 0));
  }
  expect(firstSeen).toEqual(Array.from({ length: n }, (_, i) => `m${i}`));
  expect(s.figures()).toMatchObject({ inflight: 0, queued: 0, dropped: 0 });
}

describe('session model check', () => {
  for (const seed of [1, 2, 3, 42, 1234]) {
    it(`delivers everything in order through random acks, disconnects and resumes (seed ${seed})`, () => run(seed));
  }
});
