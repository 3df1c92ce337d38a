/**
 * The error catalog (src/errors.ts), docs/errors.md and the code agree (fastify's
 * test/internals/errors.test.js discipline): every catalog code is documented with its status and
 * message, nothing else is documented, every code the sources raise is in the catalog, and every
 * catalog code is raised somewhere.
 *
 * "Raised" means a string literal in src/ (outside the catalog itself) that starts with the code:
 * `sendError(reply, 'VIGIL_ERR_X')`, `new VigilError('VIGIL_ERR_X')`, a `code: 'VIGIL_ERR_X'` field,
 * a message template `VIGIL_ERR_X: ...`. Read with TypeScript's parser, so comments and prose that
 * merely mention a code do not count.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { sourceFiles } from '../scripts/import-cycles.js';
import { errorCatalog } from '../src/errors.js';

const DOC = new URL('../docs/errors.md', import.meta.url);
const SRC = new URL('../src', import.meta.url).pathname;
const CATALOG = join(SRC, 'errors.ts');

function documented(): Map<string, { status: number; message: string }> {
  const rows = new Map<string, { status: number; message: string }>();
  for (const line of readFileSync(DOC, 'utf8').split('\n')) {
    const m = /^\|\s*(VIGIL_ERR_[A-Z0-9_]+)\s*\|\s*(\d{3})\s*\|\s*(.*?)\s*\|/.exec(line);
    if (m) rows.set(m[1]!, { status: Number(m[2]), message: m[3]! });
  }
  return rows;
}

/** Code -> where it is raised (file:line), from the string literals of every source file. */
function raised(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    if (file === CATALOG) continue;
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node)) {
        const code = /^VIGIL_ERR_[A-Z0-9_]+/.exec(node.text)?.[0];
        if (code) {
          const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
          out.set(code, [...(out.get(code) ?? []), `${relative(SRC, file)}:${line}`]);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return out;
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

describe('the sources and the catalog', () => {
  const codes = raised();

  it('raise no code the catalog lacks', () => {
    const unknown = [...codes].filter(([code]) => !(code in errorCatalog)).map(([code, where]) => `${code} (${where.join(', ')})`);
    expect(unknown, 'add these to src/errors.ts and docs/errors.md, or fix the name').toEqual([]);
  });

  it('raise every code the catalog holds', () => {
    const unused = Object.keys(errorCatalog).filter((code) => !codes.has(code));
    expect(unused, 'nothing raises these: raise them where they apply or remove them from the catalog and docs').toEqual([]);
  });
});
