/**
 * src/transport/ip-limits.ts: token buckets per address (listener and per host), the failed-auth delay
 * doubling, and memory that follows the recently active addresses only.
 */
import { describe, expect, it } from 'vitest';
import { createIpLimits } from '../../src/transport/ip-limits.js';
import { ManualClock } from '../../src/time/manual.js';

const make = () => {
  const clock = new ManualClock(0);
  const limits = createIpLimits({ clock, rates: { a: 6, b: 12 }, authDelays: { a: 100, b: 0 } });
  return { clock, limits };
};

describe('ip limits', () => {
  it('a bucket holds a minute of the rate and refills with time; the listener uses the largest rate', () => {
    const { clock, limits } = make();
    expect(limits.acceptRate).toBe(12);
    const take = (n: number, host: string | null) => Array.from({ length: n }, () => limits.takeConnection('1.2.3.4', host)).filter(Boolean).length;
    expect(take(10, 'a')).toBe(6);
    expect(take(20, null)).toBe(12);
    clock.set(10_000);
    expect(take(2, 'a')).toBe(1);
    expect(limits.takeConnection('5.6.7.8', 'a')).toBe(true);
  });

  it('failed-auth delay doubles per recent failure up to 16 x and is forgotten after 10 minutes', () => {
    const { clock, limits } = make();
    expect(Array.from({ length: 6 }, () => limits.authFailure('9.9.9.9', 'a'))).toEqual([100, 200, 400, 800, 1_600, 1_600]);
    expect(limits.authFailure('9.9.9.9', 'b')).toBe(0);
    clock.set(11 * 60_000);
    expect(limits.authFailure('9.9.9.9', 'a')).toBe(100);
  });

  it('buckets of addresses gone quiet are swept: memory follows the active addresses', () => {
    const { clock, limits } = make();
    for (let i = 0; i < 20_000; i++) limits.takeConnection(`10.${i >> 8}.${i & 255}.1`, 'a');
    expect(limits.size()).toBeGreaterThan(10_000);
    clock.set(120_000);
    for (let i = 0; i < 4_096; i++) limits.takeConnection('192.0.2.1', 'a');
    expect(limits.size()).toBeLessThan(10);
  });
});
