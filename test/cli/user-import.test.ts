/** `vigil user import FILE` (src/cli/user-import.ts) against a real SQLite data dir. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deriveCredential } from '../../src/auth/scram.js';
import { checkPassword } from '../../src/auth/users.js';
import { userCommand } from '../../src/cli/user.js';
import { parseConfig } from '../../src/config/load.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { tempDataDir } from '../store/temp-dir.js';

let tmp: ReturnType<typeof tempDataDir>;
beforeEach(() => {
  tmp = tempDataDir('vigil-import-');
});
afterEach(() => tmp.cleanup());

async function vigilUser(argv: string[], stdin?: string) {
  const out: string[] = [];
  const err: string[] = [];
  const loaded = parseConfig(`data_dir: ${JSON.stringify(tmp.dir)}\nhosts:\n  localhost: {}\n  example.org: {}\n`, join(tmp.dir, 'vigil.yaml'));
  const code = await userCommand(argv, { loaded, out: (l) => out.push(l), err: (l) => err.push(l), ...(stdin === undefined ? {} : { stdin: Readable.from([Buffer.from(stdin)]) }) });
  return { code, out, err };
}

function withStore<T>(fn: (s: ReturnType<typeof openSqliteStore>) => T): T {
  const s = openSqliteStore(tmp.dir);
  try {
    return fn(s);
  } finally {
    s.close();
  }
}

describe('vigil user import', () => {
  it('imports a CSV file, one result line per account line in file order, and a second run creates nothing', async () => {
    const file = join(tmp.dir, '..', 'users.csv');
    writeFileSync(file, 'jid,password\r\nalice@example.org,s3cret\r\nbob@localhost,"pa,ss"\r\n\r\nmallory@evil.org,x\r\nalice@example.org,other\r\n');
    const first = await vigilUser(['import', file]);
    expect(first.out).toEqual([
      '2 created alice@example.org',
      '3 created bob@localhost',
      expect.stringMatching(/^5 invalid mallory@evil\.org VIGIL_ERR_UNKNOWN_HOST: host evil\.org is not configured .*configured hosts: example\.org, localhost$/),
      '6 existing alice@example.org',
      'created 2, existing 1, invalid 1',
    ]);
    expect(first.code).toBe(1); // an invalid line
    withStore((s) => {
      expect(checkPassword(s, 'example.org', 'alice', 's3cret')).toBe(true);
      expect(checkPassword(s, 'localhost', 'bob', 'pa,ss')).toBe(true);
    });
    writeFileSync(file, 'alice@example.org,s3cret\nbob@localhost,"pa,ss"\n');
    const second = await vigilUser(['import', file]);
    expect(second).toEqual({ code: 0, out: ['1 existing alice@example.org', '2 existing bob@localhost', 'created 0, existing 2, invalid 0'], err: [] });
  });

  it('reads JSON lines from standard input, pre-hashed credentials included, never printing a password', async () => {
    const sha1 = deriveCredential('sha1', 'prosody-pw', 10_000);
    const scram = { salt: sha1.salt.toString('base64'), iterations: 10_000, stored_key: sha1.storedKey.toString('base64'), server_key: sha1.serverKey.toString('base64') };
    const lines = [JSON.stringify({ jid: 'carol@localhost', scram_sha_1: scram }), JSON.stringify({ jid: 'dave@localhost', password: 'hunter2', extra: 1 })];
    const r = await vigilUser(['import', '-'], lines.join('\n'));
    expect(r.out[0]).toBe('1 created carol@localhost');
    expect(r.out[1]).toMatch(/^2 invalid dave@localhost VIGIL_ERR_IMPORT_BAD_LINE: "extra" is not a known field/);
    expect(r.out.join('\n')).not.toContain('hunter2');
    withStore((s) => expect(checkPassword(s, 'localhost', 'carol', 'prosody-pw')).toBe(true));
  });

  it('usage errors exit 2; an unreadable file exits 1 naming it', async () => {
    expect((await vigilUser(['import'])).code).toBe(2);
    expect((await vigilUser(['import', 'a', 'b'])).code).toBe(2);
    expect((await vigilUser(['import', 'a', '--jobs', '0'])).code).toBe(2);
    const missing = await vigilUser(['import', join(tmp.dir, 'nope.csv')]);
    expect(missing.code).toBe(1);
    expect(missing.err.join('\n')).toMatch(/cannot read .*nope\.csv \(ENOENT\)/);
    expect((await vigilUser(['import', '--help'])).out[0]).toMatch(/^Usage: vigil user import FILE/);
  });
});
