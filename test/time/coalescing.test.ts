import { describe, expect, it } from 'vitest';
import { coalescingScheduler } from '../../src/time/coalescing.js';
import { ManualClock, ManualScheduler } from '../../src/time/manual.js';

describe('coalescingScheduler', () => {
  it('fires on the next slot of the grid at or after the due time, never early', () => {
    const manual = new ManualScheduler();
    const clock = manual.clock;
    const fired: string[] = [];
    const t0 = clock.monotonic(); // a multiple of 10
    const s = coalescingScheduler(manual, clock, 10);
    manual.advance(3); // t0 + 3
    s.setTimer(0, () => fired.push(`a@${clock.monotonic() - t0}`)); // due 3 -> slot 10
    s.setTimer(5, () => fired.push(`b@${clock.monotonic() - t0}`)); // due 8 -> slot 10
    s.setTimer(7, () => fired.push(`c@${clock.monotonic() - t0}`)); // due 10 -> slot 10
    s.setTimer(8, () => fired.push(`d@${clock.monotonic() - t0}`)); // due 11 -> slot 20
    manual.advance(6);
    expect(fired).toEqual([]);
    manual.advance(1);
    expect(fired).toEqual(['a@10', 'b@10', 'c@10']);
    manual.advance(10);
    expect(fired).toEqual(['a@10', 'b@10', 'c@10', 'd@20']);
  });

  it('slack 0 is the base scheduler itself', () => {
    const manual = new ManualScheduler();
    expect(coalescingScheduler(manual, new ManualClock(), 0)).toBe(manual);
  });
});
