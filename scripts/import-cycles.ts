/**
 * Import cycle check: every module under a folder, every import between them (type-only imports,
 * `export ... from` and dynamic `import()` count: a type cycle is still a cycle of concepts), and
 * the strongly connected components of that graph (Tarjan 1972). A component of two or more
 * modules, or a module importing itself, is a cycle.
 *
 * Imports are read with TypeScript's own scanner (`ts.preProcessFile`), not a regular expression,
 * so comments and strings cannot fool it. Relative specifiers resolve as NodeNext does for our
 * sources: `./x.js` is `./x.ts`, a folder is its `index.ts`.
 *
 *   npx tsx scripts/import-cycles.ts [dir]     prints each cycle, exit 1 when there is one not allowed
 * `npm run lint` runs it on src/; test/architecture/import-cycles.test.ts runs it under `npm test`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * Cycles src/ may still have, each as its modules sorted (paths relative to src/). Keep this empty:
 * the check also fails while an allowed cycle no longer exists.
 */
export const ALLOWED_CYCLES: readonly (readonly string[])[] = [];

/** Module path (relative to the root, '/'-separated) -> the modules it imports. */
export type ImportGraph = Map<string, string[]>;

/** Every TypeScript source under `dir`, recursively. */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|mts|tsx)$/.test(name)) out.push(path);
  }
  return out;
}

/** The module a relative specifier names, or null (a package, a builtin, a missing file). */
function resolveSpecifier(from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const base = resolve(dirname(from), spec);
  const stem = base.replace(/\.(m?js|jsx)$/, '');
  const candidates = [`${stem}.ts`, `${stem}.mts`, `${stem}.tsx`, `${stem}.d.ts`, base, `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile() && /\.(ts|mts|tsx)$/.test(c)) ?? null;
}

export function importGraph(root: string): ImportGraph {
  const graph: ImportGraph = new Map();
  const name = (path: string) => relative(root, path).split('\\').join('/');
  for (const file of sourceFiles(root).sort()) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = new Set<string>();
    for (const ref of info.importedFiles) {
      const target = resolveSpecifier(file, ref.fileName);
      if (target && !relative(root, target).startsWith('..')) targets.add(name(target));
    }
    graph.set(name(file), [...targets].sort());
  }
  return graph;
}

/** Strongly connected components that are cycles, each sorted, in a stable order. */
export function findCycles(graph: ImportGraph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];

  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
  };

  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

export interface CycleReport {
  /** Cycles that are not allowed. */
  cycles: string[][];
  /** Allowed cycles that no longer exist (the allowance must go). */
  stale: string[][];
}

export function checkImportCycles(root: string, allowed: readonly (readonly string[])[] = ALLOWED_CYCLES): CycleReport {
  const key = (c: readonly string[]) => c.join(' <-> ');
  const found = findCycles(importGraph(resolve(root)));
  const allowedKeys = new Set(allowed.map(key));
  const foundKeys = new Set(found.map(key));
  return {
    cycles: found.filter((c) => !allowedKeys.has(key(c))),
    stale: allowed.filter((c) => !foundKeys.has(key(c))).map((c) => [...c]),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = process.argv[2] ?? 'src';
  const { cycles, stale } = checkImportCycles(root);
  for (const c of cycles) console.error(`import cycle in ${root}: ${c.join(' <-> ')}`);
  for (const c of stale) console.error(`allowed import cycle is gone, remove it from ALLOWED_CYCLES (scripts/import-cycles.ts): ${c.join(' <-> ')}`);
  if (cycles.length + stale.length > 0) process.exit(1);
  console.log(`no import cycle in ${root}`);
}
