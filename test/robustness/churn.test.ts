/**
 * The churn run inside `npm test` (2,000 cycles, a few seconds); the CI-sized run is
 * `npm run fuzz -- --churn` (20,000 cycles), the long one `npm run fuzz -- --churn --long`
 * (1,000,000). See test/fuzz/churn.ts for what one cycle does and what is checked.
 */
import { describe, expect, it } from 'vitest';
import { churn } from '../fuzz/churn.js';

describe('churn (short run)', () => {
  it('2,000 connect/subscribe/disconnect cycles over both protocols leave nothing behind', async () => {
    const r = await churn({ cycles: 2_000 });
    expect(r.left).toEqual({
      xmpp_connections: 0,
      xmpp_bound_sessions: 0,
      mqtt_connections: 0,
      mqtt_sessions: 0,
      mqtt_subscriptions: 0,
      tracked_endpoints: 0,
      presence_rows: 0,
      timers: 0,
      internal_errors: 0,
    });
    expect(r.feedKept).toBeLessThanOrEqual(r.feedSize);
    // Heap after a full GC: a per-cycle leak of even 1 KiB would show as 2 MB here.
    expect(r.heapEndMb).toBeLessThan(r.heapWarmMb * 1.1 + 2);
  }, 60_000);
});
