/** The error catalog and docs/errors.md agree (fastify's test/internals/errors.test.js discipline). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCatalog } from '../../src/errors.js';

const DOC = new URL('../../docs/errors.md', import.meta.url);

function documented(): Map<string, { status: number; message: string }> {
  const rows = new Map<string, { status: number; message: string }>();
  for (const line of readFileSync(DOC, 'utf8').split('\n')) {
    const m = /^\|\s*(VIGIL_ERR_[A-Z0-9_]+)\s*\|\s*(\d{3})\s*\|\s*(.*?)\s*\|/.exec(line);
    if (m) rows.set(m[1]!, { status: Number(m[2]), message: m[3]! });
  }
  return rows;
}

describe('docs/errors.md', () => {
  it('documents every catalog code with its status and message', () => {
    const doc = documented();
    for (const [code, entry] of Object.entries(errorCatalog)) {
      const row = `| ${code} | ${entry.status} | ${entry.message} | <when> |`;
      expect(doc.get(code), `add to docs/errors.md: ${row}`).toEqual({ status: entry.status, message: entry.message });
    }
  });

  it('documents no code the catalog lacks', () => {
    const extra = [...documented().keys()].filter((c) => !(c in errorCatalog));
    expect(extra).toEqual([]);
  });
});
