/**
 * Crash safety of MQTT across nodes, CI size: 2 SIGKILL cycles of a random node of three
 * (test/fuzz/cluster-crash.ts) under persistent QoS 1 / QoS 2 traffic between nodes, with wills.
 * The long run is `npm run fuzz -- --cluster-crash` (20 cycles; --long 100).
 */
import { expect, it } from 'vitest';
import { clusterCrash } from '../fuzz/cluster-crash.js';

it('2 kills of a random node: nothing acknowledged missing, QoS 2 once, each will once', async () => {
  const r = await clusterCrash({ cycles: 2, seed: 16 });
  expect(r.problems).toEqual([]);
  expect(r.sessions.acked1).toBeGreaterThan(0);
  expect(r.sessions.acked2).toBeGreaterThan(0);
  expect(r.sessions.missing).toBe(0);
  expect(r.sessions.dup2).toBe(0);
  expect(r.sessions.idReuse).toBe(0);
  expect(r.wills).toMatchObject({ expected: 8, received: 8, missing: 0, duplicates: 0 });
}, 180_000);
