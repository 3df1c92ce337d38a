/**
 * No import cycle in src/ (scripts/import-cycles.ts; `npm run lint` runs it too), and the check
 * itself finds what it must: type-only imports, re-exports, dynamic imports, folders as index.ts,
 * self-imports; it ignores packages and specifiers inside comments or strings.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkImportCycles, findCycles, importGraph } from '../../scripts/import-cycles.js';

const SRC = new URL('../../src', import.meta.url).pathname;

describe('src/', () => {
  it('has no import cycle (beyond the allowance scripts/import-cycles.ts names)', () => {
    expect(checkImportCycles(SRC)).toEqual({ cycles: [], stale: [] });
  });
});

describe('the import cycle check', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const tree = (files: Record<string, string>): string => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-cycles-'));
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    return dir;
  };

  it('counts type-only imports and type re-exports', () => {
    const root = tree({
      'a.ts': "import type { B } from './b.js';\nexport interface A { b: B }\n",
      'b.ts': "export type { A as B } from './a.js';\n",
    });
    expect(findCycles(importGraph(root))).toEqual([['a.ts', 'b.ts']]);
  });

  it('follows `export * from`, dynamic import() and a folder as its index.ts, across folders', () => {
    const root = tree({
      'a.ts': "export * from './b.js';\n",
      'b.ts': "export const load = () => import('./c/index.js');\n",
      'c/index.ts': "import '../d';\n",
      'd.ts': "import { x } from './a.js';\nexport const y = x;\n",
      'e.ts': "import { y } from './d.js';\n",
    });
    expect(findCycles(importGraph(root))).toEqual([['a.ts', 'b.ts', 'c/index.ts', 'd.ts']]);
  });

  it('finds a module that imports itself, and separate cycles separately', () => {
    const root = tree({
      'self.ts': "import type { T } from './self.js';\nexport type T = number;\n",
      'x.ts': "import './y.js';\n",
      'y.ts': "import './x.js';\n",
    });
    expect(findCycles(importGraph(root))).toEqual([['self.ts'], ['x.ts', 'y.ts']]);
  });

  it('ignores packages, builtins, comments and strings', () => {
    const root = tree({
      'a.ts': "import { readFileSync } from 'node:fs';\nimport pino from 'pino';\n// import './b.js';\nexport const s = \"import './b.js'\";\n",
      'b.ts': "import { s } from './a.js';\n",
    });
    expect(importGraph(root).get('a.ts')).toEqual([]);
    expect(findCycles(importGraph(root))).toEqual([]);
  });

  it('reports a cycle not allowed, and an allowed one that is gone', () => {
    const root = tree({ 'x.ts': "import './y.js';\n", 'y.ts': "import './x.js';\n", 'z.ts': '' });
    expect(checkImportCycles(root, [])).toEqual({ cycles: [['x.ts', 'y.ts']], stale: [] });
    expect(checkImportCycles(root, [['x.ts', 'y.ts']])).toEqual({ cycles: [], stale: [] });
    expect(checkImportCycles(root, [['x.ts', 'y.ts'], ['w.ts', 'z.ts']])).toEqual({ cycles: [], stale: [['w.ts', 'z.ts']] });
  });
});
