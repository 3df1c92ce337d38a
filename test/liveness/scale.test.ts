import { describe, expect, it } from 'vitest';
import { DeadlineHeap, type HeapEntry } from '../../src/liveness/deadline-heap.js';
import type { LivenessHandle } from '../../src/liveness/types.js';
import { eachActivityTime } from './rig.js';

const N = 10_000;

/** Deterministic pseudo-random (LCG) so a failure reproduces. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

eachActivityTime((rig) => {
  describe('10k endpoints', () => {
    it('fire in deadline order, FIFO for equal deadlines, with lazy re-arm after activity', async () => {
      const r = rig({ timeout_action: 'none' });
      const rand = lcg(7);
      const expected: { id: string; at: number; order: number }[] = [];
      const handles: LivenessHandle[] = [];
      for (let i = 0; i < N; i++) {
        const idleMs = 1_000 * (1 + Math.floor(rand() * 20)); // many equal deadlines
        const id = `c${i}`;
        handles.push(r.trackMqtt(id, { onIdle: 'expire', idleMs }));
        expected.push({ id, at: idleMs, order: i });
      }
      // A third get activity at t=500: their deadline moves by 500 ms (lazy re-arm).
      await r.advance(500);
      for (let i = 0; i < N; i += 3) {
        handles[i]?.touch();
        const e = expected[i];
        if (e) e.at += 500;
      }
      r.clear();
      await r.advance(30_000);
      const fired = r.events.flatMap((e) => (e.type === 'ping_timeout' ? [e.ref.id] : []));
      // Equal deadlines: arm order. Re-armed entries re-enter the heap when their first deadline fires,
      // so among equal deadlines they come after the ones armed at track time.
      const rearmOrder = (e: { order: number }) => (e.order % 3 === 0 ? N + e.order : e.order);
      const want = [...expected]
        .sort((a, b) => a.at - b.at || rearmOrder(a) - rearmOrder(b))
        .map((e) => e.id);
      expect(fired).toHaveLength(N);
      expect(fired).toEqual(want);
    });

    it('10k due at the same ms fire in tracking order with one scheduler timer', async () => {
      const r = rig({ timeout_action: 'none', ping_interval: 60 });
      for (let i = 0; i < N; i++) r.track(`u${i}@example.org/r`);
      expect(r.scheduler.pending).toBe(1);
      await r.advance(60_000);
      expect(r.adapter.probes.map((p) => p.id)).toEqual(Array.from({ length: N }, (_, i) => `u${i}@example.org/r`));
    });

    it('untrack frees everything: no endpoint, no timer', async () => {
      const r = rig();
      const hs = Array.from({ length: N }, (_, i) => r.track(`u${i}@example.org/r`));
      await r.advance(30_000);
      for (const h of hs.slice(0, N / 2)) h.touch();
      for (const h of hs) h.untrack('client_close');
      expect(r.registry.size()).toBe(0);
      expect(r.scheduler.pending).toBe(0);
      expect(r.events.filter((e) => e.type === 'offline')).toHaveLength(N);
    });
  });
});

describe('DeadlineHeap', () => {
  const entry = (): HeapEntry => ({ armGen: -1 });

  it('pops by deadline then arm order; remove keeps the invariant; shrinks back', () => {
    const rand = lcg(3);
    const heap = new DeadlineHeap<HeapEntry & { n: number; at: number }>();
    const all = Array.from({ length: 20_000 }, (_, n) => ({ ...entry(), n, at: Math.floor(rand() * 50) }));
    for (const e of all) heap.push(e, e.at);
    for (const e of all.filter((_, i) => i % 5 === 0)) heap.remove(e);
    const out: (HeapEntry & { n: number; at: number })[] = [];
    for (let e = heap.pop(); e; e = heap.pop()) out.push(e);
    expect(out).toHaveLength(16_000);
    for (let i = 1; i < out.length; i++) {
      const a = out[i - 1]!;
      const b = out[i]!;
      expect(a.at < b.at || (a.at === b.at && a.n < b.n)).toBe(true);
    }
    expect(all.every((e) => e.armGen < 0)).toBe(true);
    expect(heap.size).toBe(0);
    expect(heap.peekDeadline()).toBe(Infinity);
  });

  it('churn: re-arms and removals leave each armed entry exactly once, at its latest key', () => {
    const rand = lcg(11);
    const heap = new DeadlineHeap<HeapEntry & { n: number; at: number; seq: number }>();
    const all = Array.from({ length: 10_000 }, (_, n) => ({ ...entry(), n, at: 0, seq: 0 }));
    let seq = 0;
    for (let round = 0; round < 5; round++) {
      for (const e of all) {
        e.at = Math.floor(rand() * 1_000);
        e.seq = seq++;
        heap.push(e, e.at);
      }
    }
    const removed = all.filter((_, i) => i % 3 !== 0);
    for (const e of removed) heap.remove(e);
    expect(heap.size).toBe(all.length - removed.length);
    const out: typeof all = [];
    for (let e = heap.pop(); e; e = heap.pop()) out.push(e);
    const want = all.filter((_, i) => i % 3 === 0).sort((a, b) => a.at - b.at || a.seq - b.seq);
    expect(out.map((e) => e.n)).toEqual(want.map((e) => e.n));
    expect(heap.size).toBe(0);
    expect(heap.peekDeadline()).toBe(Infinity);
  });

  it('matches a sorted reference while time moves: re-arms near and far, removals', () => {
    const rand = lcg(5);
    type E = HeapEntry & { n: number; at: number; seq: number; armed: boolean };
    const heap = new DeadlineHeap<E>();
    // A literal, not `{ ...entry(), ... }`: spread-built entries ran this test 10x slower (V8 object shapes).
    const all: E[] = Array.from({ length: 3_000 }, (_, n) => ({ armGen: -1, n, at: 0, seq: 0, armed: false }));
    let seq = 0;
    const arm = (e: E, at: number) => {
      e.at = at;
      e.seq = seq++;
      e.armed = true;
      heap.push(e, at);
    };
    for (const e of all) arm(e, Math.floor(rand() * 200_000));
    let now = 0;
    for (let step = 0; step < 20_000; step++) {
      const live = all.filter((e) => e.armed);
      const want = live.reduce<E | undefined>(
        (m, e) => (!m || e.at < m.at || (e.at === m.at && e.seq < m.seq) ? e : m),
        undefined,
      );
      expect(heap.size).toBe(live.length);
      expect(heap.peekDeadline()).toBe(want ? want.at : Infinity);
      const r = rand();
      if (want && r < 0.6) {
        expect(heap.pop()).toBe(want);
        want.armed = false;
        now = want.at;
        if (rand() < 0.8) arm(want, now + Math.floor(rand() * 100_000)); // lazy re-arm, far or near
      } else if (r < 0.8) {
        const e = all[Math.floor(rand() * all.length)] as E;
        heap.remove(e);
        e.armed = false;
      } else {
        arm(all[Math.floor(rand() * all.length)] as E, now + Math.floor(rand() * 3_000));
      }
    }
  }, 60_000); // CPU-bound reference check: ~20 s on a loaded 2-core machine, over the 20 s default

  it('push on an armed entry moves it', () => {
    const heap = new DeadlineHeap<HeapEntry>();
    const a = entry();
    const b = entry();
    heap.push(a, 10);
    heap.push(b, 20);
    heap.push(a, 30);
    expect(heap.size).toBe(2);
    expect(heap.pop()).toBe(b);
    expect(heap.pop()).toBe(a);
  });
});
