/**
 * The CLI reports a configuration it cannot use with the catalog code first (docs/errors.md):
 * VIGIL_ERR_CONFIG_FILE for a file it cannot read or parse, VIGIL_ERR_CONFIG_INVALID for a value.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/index.js';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function check(text: string | null): Promise<{ code: number; err: string[]; file: string }> {
  dir = mkdtempSync(join(tmpdir(), 'vigil-cli-config-'));
  const file = join(dir, 'vigil.yaml');
  if (text !== null) writeFileSync(file, text);
  const err: string[] = [];
  const code = await runCli(['config', 'check', '--config', file], { out: () => undefined, err: (l) => err.push(l), env: {} });
  return { code, err, file };
}

describe('vigil config check with a bad configuration', () => {
  it('a missing file: VIGIL_ERR_CONFIG_FILE, exit 1', async () => {
    const r = await check(null);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([`vigil: VIGIL_ERR_CONFIG_FILE: ${r.file}: cannot read the file (ENOENT)`]);
  });

  it('a file that is not YAML: VIGIL_ERR_CONFIG_FILE with the line', async () => {
    const r = await check('hosts:\n  localhost: [\n');
    expect(r.code).toBe(1);
    expect(r.err[0]).toMatch(new RegExp(`^vigil: VIGIL_ERR_CONFIG_FILE: ${r.file}: not valid YAML at line \\d+`));
  });

  it('a value the schema refuses: VIGIL_ERR_CONFIG_INVALID naming the key', async () => {
    const r = await check('listeners:\n  http: { port: 70000 }\n');
    expect(r.code).toBe(1);
    expect(r.err).toEqual([`vigil: VIGIL_ERR_CONFIG_INVALID: ${r.file}: listeners.http.port: got 70000, expected an integer from 0 to 65535`]);
  });
});
