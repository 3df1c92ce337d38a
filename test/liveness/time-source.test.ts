import { describe, expect, it } from 'vitest';
import { TimeSource } from '../../src/liveness/time-source.js';
import { ManualClock } from '../../src/time/manual.js';

describe('TimeSource', () => {
  it('exact mode reads the clock on every activity, as integer ms from the origin', () => {
    const clock = new ManualClock(1_000.7);
    const t = new TimeSource(clock, 'exact');
    clock.set(1_250.9);
    expect(t.activity()).toBe(251); // start of a deadline: rounded up
    expect(t.now()).toBe(250); // due check: rounded down, so nothing fires early
    expect(t.toMonotonic(250)).toBeCloseTo(1_250.7);
  });

  it('turn mode reads the clock once per turn (until the microtask queue drains)', async () => {
    const clock = new ManualClock(0);
    const t = new TimeSource(clock, 'turn');
    clock.set(10);
    expect(t.activity()).toBe(10);
    clock.set(20);
    expect(t.activity()).toBe(10); // same turn: cached
    expect(t.now()).toBe(20); // deadlines always read the clock
    await Promise.resolve();
    expect(t.activity()).toBe(20);
  });
});
