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
    // QoS 2 exactly once across the kills: PUBLISH and PUBREL go out only once the session state
    // behind them is durable (src/mqtt-session/session-service.ts run()), and ids are never reused.
    expect(r.qos2Duplicates).toEqual([]);
    expect(r.sessions.idReuse).toBe(0);
  }, 120_000);
});
