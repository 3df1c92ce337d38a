/**
 * The short fuzz run inside `npm test` (a few seconds): the same loop as `npm run fuzz`, with a
 * fixed seed per day-independent run so a failure here is reproducible with
 * `npm run fuzz -- --seed 20261 --cases 3000`.
 */
import { describe, expect, it } from 'vitest';
import { fuzz } from '../fuzz/runner.js';

describe('fuzz (short run)', () => {
  it('3000 mutated XMPP and MQTT streams: no crash, all closed, controls unaffected', async () => {
    const r = await fuzz({ cases: 3_000, seconds: 15, seed: 20261 });
    expect(r.findings.map((f) => `${f.kind}: ${f.detail}`)).toEqual([]);
    expect(r.cases).toBeGreaterThan(500);
    expect(r.closedByServer + r.negotiated).toBe(r.cases);
    expect(r.controlMessages).toBeGreaterThan(0);
    expect(r.controlPings).toBeGreaterThan(0);
  }, 30_000);
});
