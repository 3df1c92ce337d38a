/**
 * Crash safety, CI size: 5 SIGKILL cycles of the spawned server (test/fuzz/crash.ts); the long run
 * is `npm run fuzz -- --crash --long` (50 cycles).
 */
import { describe, expect, it } from 'vitest';
import { crashCycles } from '../fuzz/crash.js';

describe('crash safety (SIGKILL)', () => {
  it('5 kills at random moments: the store opens, nothing acknowledged is missing', async () => {
    const r = await crashCycles({ cycles: 5, seed: 8 });
    expect(r.problems).toEqual([]);
    expect(r.ackedPublishes).toBeGreaterThan(0);
    expect(r.ackedUsers).toBeGreaterThan(0);
  }, 120_000);
});
