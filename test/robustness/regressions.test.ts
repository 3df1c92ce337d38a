/**
 * Every input the fuzzer ever found breaking something (test/robustness/regressions/<proto>/*.json,
 * written by test/fuzz/runner.ts) replayed against a fresh in-process server with all the fuzz
 * checks: no internal error, every connection closed, nothing leaked, control clients unaffected.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type FuzzCase, makeRig, runBatch } from '../fuzz/runner.js';

const dir = fileURLToPath(new URL('./regressions', import.meta.url));
const files = ['xmpp', 'mqtt'].filter((p) => existsSync(join(dir, p))).flatMap((p) => readdirSync(join(dir, p)).filter((f) => f.endsWith('.json')).map((f) => join(p, f)));

interface Saved {
  kind: string;
  detail: string;
  cases: { proto: 'xmpp' | 'mqtt'; n: number; ws?: { flip: number }; chunks: string[] }[];
}

describe('fuzz regressions', () => {
  it.each(files)('%s', async (file) => {
    const saved = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Saved;
    const cases: FuzzCase[] = saved.cases.map((c) => ({ proto: c.proto, n: c.n, ...(c.ws ? { ws: c.ws } : {}), chunks: c.chunks.map((b) => Buffer.from(b, 'base64')) }));
    const rig = await makeRig();
    try {
      const r = await runBatch(rig, cases);
      expect(r.problems).toEqual([]);
    } finally {
      rig.world.stop();
    }
  });
});
