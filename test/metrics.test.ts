import { describe, expect, it } from 'vitest';
import { createMetrics } from '../src/metrics.js';

describe('fastCounter', () => {
  it('counts in a plain number and reports the running total at each scrape', async () => {
    const m = createMetrics();
    const c = m.fastCounter('vigil_test_events_total', 'Test events.');
    expect(m.fastCounter('vigil_test_events_total', 'Test events.')).toBe(c);
    c.inc();
    c.inc(4);
    expect(c.value).toBe(5);
    expect(await m.registry.metrics()).toContain('vigil_test_events_total 5');
    c.inc();
    // a second scrape adds only what came since the first
    expect(await m.registry.metrics()).toContain('vigil_test_events_total 6');
    expect(await m.registry.metrics()).toContain('vigil_test_events_total 6');
  });
});
