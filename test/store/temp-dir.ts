/** Temporary data dirs for store and CLI tests, removed by the returned cleanup. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDataDir(prefix = 'vigil-store-'): { dir: string; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  return { dir: join(root, 'data'), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
