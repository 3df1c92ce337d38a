import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TOKEN_FILE, resolveApiToken } from '../../src/http/token.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'vigil-token-'));
  dirs.push(d);
  return d;
};
const recorder = () => {
  const lines: { obj: object; msg: string }[] = [];
  return { lines, logger: { info: (obj: object, msg: string) => void lines.push({ obj, msg }) } };
};

describe('resolveApiToken', () => {
  it('uses api.token (VIGIL_API_TOKEN lands there) and writes nothing', () => {
    const dir = tmp();
    const { lines, logger } = recorder();
    expect(resolveApiToken({ api: { token: 'from-config' } }, dir, logger)).toBe('from-config');
    expect(() => statSync(join(dir, TOKEN_FILE))).toThrow();
    expect(lines).toEqual([]);
  });

  it('generates a token at first start, keeps it 0600 in data_dir, logs it once', () => {
    const dir = join(tmp(), 'nested', 'data');
    const { lines, logger } = recorder();
    const first = resolveApiToken({ api: { token: null } }, dir, logger);
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const file = join(dir, TOKEN_FILE);
    expect(readFileSync(file, 'utf8').trim()).toBe(first);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.obj).toMatchObject({ event: 'api_token_generated', file });
    expect(lines[0]!.msg).toContain(first);

    const again = resolveApiToken({ api: { token: null } }, dir, logger);
    expect(again).toBe(first);
    expect(lines).toHaveLength(1);
  });

  it('reads a token an operator put in the file', () => {
    const dir = tmp();
    writeFileSync(join(dir, TOKEN_FILE), 'operator-token\n');
    const { lines, logger } = recorder();
    expect(resolveApiToken({ api: { token: null } }, dir, logger)).toBe('operator-token');
    expect(lines).toEqual([]);
  });
});
