/**
 * Crash safety, CI size: 5 SIGKILL cycles of the spawned server (test/fuzz/crash.ts): retained
 * messages, REST users, roster items, and persistent QoS 1 / QoS 2 sessions (crash-sessions.ts).
 * The long run is `npm run fuzz -- --crash --long` (50 cycles).
 */
import { describe, expect, it } from 'vitest';
import { crashCycles } from '../fuzz/crash.js';

describe('crash safety (SIGKILL)', () => {
  it('5 kills at random moments: the store opens, nothing acknowledged is missing', async () => {
    const r = await crashCycles({ cycles: 5, seed: 8 });
    expect(r.problems).toEqual([]);
    expect(r.ackedPublishes).toBeGreaterThan(0);
    expect(r.ackedUsers).toBeGreaterThan(0);
    expect(r.rosterItems).toBe(6);
    expect(r.sessions.acked1).toBeGreaterThan(0);
    expect(r.sessions.acked2).toBeGreaterThan(0);
    expect(r.sessions.missing).toBe(0);
    // QoS 2 exactly once is NOT asserted yet: the server sends PUBREL before the await_pubcomp phase
    // is durable, so a kill can make it resend a completed QoS 2 PUBLISH (docs/security.md, Crash
    // safety). When that is fixed: expect(r.qos2Duplicates).toEqual([]).
    if (r.qos2Duplicates.length > 0) console.warn(`crash: ${r.qos2Duplicates.length} QoS 2 duplicate deliveries (known bug)`);
  }, 120_000);
});
