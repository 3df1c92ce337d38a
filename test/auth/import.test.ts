/** User import: the line format (src/auth/import-lines.ts) and the import itself (src/auth/import-users.ts). */
import { describe, expect, it } from 'vitest';
import { parseImportLine, parseImportText } from '../../src/auth/import-lines.js';
import { type ImportResult, importUsers, resolveAccount } from '../../src/auth/import-users.js';
import { deriveCredential } from '../../src/auth/scram.js';
import { checkPassword, makeUserRecord } from '../../src/auth/users.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { createJobLimiter } from '../../src/auth/job-limiter.js';
import { watchPbkdf2Jobs } from '../support/pbkdf2-jobs.js';

const clock = { now: () => 1_700_000_000_000 };
const b64 = (b: Buffer) => b.toString('base64');
const scramJson = (c: ReturnType<typeof deriveCredential>) => ({ salt: b64(c.salt), iterations: c.iterations, stored_key: b64(c.storedKey), server_key: b64(c.serverKey) });

describe('import line format', () => {
  it('reads CSV jid,password with RFC 4180 quoting, and skips blank, comment and header lines', () => {
    expect(parseImportLine('alice@example.org,secret', 1)).toEqual({ line: 1, ok: true, jid: 'alice@example.org', creds: { kind: 'password', password: 'secret' } });
    expect(parseImportLine(' bob@example.org ,"a,""b""c"\r', 2)).toMatchObject({ ok: true, jid: 'bob@example.org', creds: { password: 'a,"b"c' } });
    expect(parseImportLine('carol@example.org, with spaces ', 3)).toMatchObject({ creds: { password: ' with spaces ' } });
    for (const skip of ['', '   ', '# comment', 'jid,password', 'JID,Password\r']) expect(parseImportLine(skip, 1)).toBeNull();
  });

  it.each([
    ['alice@example.org', 'VIGIL_ERR_IMPORT_BAD_LINE', 'expected 2 CSV fields'],
    ['alice@example.org,a,b', 'VIGIL_ERR_IMPORT_BAD_LINE', 'expected 2 CSV fields'],
    ['alice@example.org,"open', 'VIGIL_ERR_IMPORT_BAD_LINE', 'unbalanced quote'],
    ['alice@example.org,"x"y', 'VIGIL_ERR_IMPORT_BAD_LINE', 'unbalanced quote'],
    ['alice@example.org,', 'VIGIL_ERR_BAD_PASSWORD', 'empty'],
    ['alice@example.org,bell\u0007', 'VIGIL_ERR_BAD_PASSWORD', 'prohibited'],
    ['{"jid": "a@example.org"', 'VIGIL_ERR_IMPORT_BAD_LINE', 'not valid JSON'],
    ['{"jid": "a@example.org", "password": "x", "admin": true}', 'VIGIL_ERR_IMPORT_BAD_LINE', '"admin" is not a known field'],
    ['{"password": "x"}', 'VIGIL_ERR_IMPORT_BAD_LINE', '"jid" is required'],
    ['{"jid": "a@example.org"}', 'VIGIL_ERR_IMPORT_BAD_LINE', '"password" or one of'],
    ['{"jid": "a@example.org", "password": 7}', 'VIGIL_ERR_IMPORT_BAD_LINE', 'must be a string'],
  ])('refuses %j with %s, never echoing the password', (text, code, reason) => {
    const p = parseImportLine(text, 4);
    expect(p).toMatchObject({ line: 4, ok: false, code });
    expect(p && !p.ok && p.reason).toContain(reason);
    if (p && !p.ok) expect(p.reason).not.toMatch(/secret|bell|open/);
  });

  it('reads pre-hashed SCRAM credentials (one or both hashes) and checks them', () => {
    const sha1 = deriveCredential('sha1', 'pw', 4096, Buffer.alloc(16, 1));
    const ok = parseImportLine(JSON.stringify({ jid: 'old@example.org', scram_sha_1: scramJson(sha1) }), 1);
    expect(ok).toEqual({ line: 1, ok: true, jid: 'old@example.org', creds: { kind: 'scram', sha1, sha256: null } });
    const bad = (over: object, hash = 'scram_sha_1') => parseImportLine(JSON.stringify({ jid: 'x@example.org', [hash]: { ...scramJson(sha1), ...over } }), 1);
    expect(bad({ iterations: 1000 })).toMatchObject({ ok: false, code: 'VIGIL_ERR_BAD_SCRAM', reason: expect.stringContaining('iterations') });
    expect(bad({ stored_key: 'not base64!' })).toMatchObject({ code: 'VIGIL_ERR_BAD_SCRAM', reason: expect.stringContaining('stored_key') });
    expect(bad({}, 'scram_sha_256')).toMatchObject({ code: 'VIGIL_ERR_BAD_SCRAM', reason: expect.stringContaining('32 bytes') });
    expect(bad({ pepper: 'x' })).toMatchObject({ code: 'VIGIL_ERR_BAD_SCRAM', reason: expect.stringContaining('"pepper"') });
    const both = parseImportLine(JSON.stringify({ jid: 'x@example.org', password: 'p', scram_sha_1: scramJson(sha1) }), 1);
    expect(both).toMatchObject({ ok: false, reason: expect.stringContaining('not both') });
  });

  it('numbers lines as in the file, counting skipped ones', () => {
    const lines = [...parseImportText('# users\n\na@example.org,x\n{"jid":"b@example.org","password":"y"}\n')];
    expect(lines.map((l) => l.line)).toEqual([3, 4]);
  });
});

describe('importUsers', () => {
  const hosts = new Set(['example.org']);
  const resolve = (jid: string) => resolveAccount(jid, (h) => (hosts.has(h) ? null : `host ${h} is not configured`));

  async function run(text: string, store = createMemoryStore(), jobs = 2) {
    const results: ImportResult[] = [];
    const summary = await importUsers(parseImportText(text), { users: store.users, clock }, { resolve, jobs, iterations: 64, onResult: (r) => results.push(r) });
    return { summary, results, store };
  }

  it('reports created / existing / invalid per line, in line order, and is idempotent', async () => {
    const store = createMemoryStore();
    store.users.put(makeUserRecord('example.org', 'bob', 'old', clock, 64));
    const file = ['Alice@Example.org,a1', 'bob@example.org,new', 'nobody@else.org,x', 'carol,c', 'dave@example.org/phone,d', 'alice@example.org,again', 'erin@example.org,e'].join('\n');
    const first = await run(file, store);
    expect(first.results.map((r) => [r.line, r.status, r.jid, r.code ?? null])).toEqual([
      [1, 'created', 'alice@example.org', null],
      [2, 'existing', 'bob@example.org', null],
      [3, 'invalid', 'nobody@else.org', 'VIGIL_ERR_UNKNOWN_HOST'],
      [4, 'invalid', 'carol', 'VIGIL_ERR_BAD_JID'],
      [5, 'invalid', 'dave@example.org/phone', 'VIGIL_ERR_BAD_JID'],
      [6, 'existing', 'alice@example.org', null],
      [7, 'created', 'erin@example.org', null],
    ]);
    expect(first.summary).toEqual({ created: 2, existing: 2, invalid: 3 });
    expect(checkPassword(store, 'example.org', 'alice', 'a1')).toBe(true);
    expect(checkPassword(store, 'example.org', 'bob', 'old')).toBe(true); // existing: untouched

    const again = await run(file, store);
    expect(again.summary).toEqual({ created: 0, existing: 4, invalid: 3 });
    expect(store.users.count('example.org')).toBe(3);
  });

  it('stores pre-hashed credentials as given: the old password still logs in, and nothing is hashed', async () => {
    const sha1 = deriveCredential('sha1', 'from-prosody', 4096);
    const jobs = watchPbkdf2Jobs();
    const out = await run(JSON.stringify({ jid: 'old@example.org', scram_sha_1: scramJson(sha1) })).finally(jobs.stop);
    expect(jobs.total).toBe(0);
    expect(out.summary.created).toBe(1);
    expect(out.store.users.get('example.org', 'old')).toMatchObject({ scramSha1: sha1, scramSha256: null });
    expect(checkPassword(out.store, 'example.org', 'old', 'from-prosody')).toBe(true);
  });

  it('hashes on the libuv pool with at most `jobs` PBKDF2 runs at a time', async () => {
    const jobs = watchPbkdf2Jobs();
    const text = Array.from({ length: 12 }, (_, i) => `u${i}@example.org,p${i}`).join('\n');
    const { summary } = await run(text, createMemoryStore(), 3).finally(jobs.stop);
    expect(summary.created).toBe(12);
    expect(jobs.total).toBe(24); // SHA-1 and SHA-256 per account
    expect(jobs.most).toBeLessThanOrEqual(3);
    expect(jobs.most).toBeGreaterThan(1);
  });

  it('with a shared limiter, runs no more PBKDF2 at once than the limiter allows', async () => {
    const limiter = createJobLimiter(1);
    const jobs = watchPbkdf2Jobs();
    const text = Array.from({ length: 6 }, (_, i) => `l${i}@example.org,p${i}`).join('\n');
    const store = createMemoryStore();
    const summary = await importUsers(parseImportText(text), { users: store.users, clock }, { resolve, jobs: 4, iterations: 64, limit: (j) => limiter.run(j) }).finally(jobs.stop);
    expect(summary.created).toBe(6);
    expect(jobs.most).toBe(1);
  });

  it('a bare user name takes the default host (REST route); a JID must name that host', () => {
    const only = (h: string) => (h === 'example.org' ? null : `not ${h}`);
    expect(resolveAccount('Alice', only, 'example.org')).toEqual({ host: 'example.org', user: 'alice' });
    expect(resolveAccount('alice@EXAMPLE.org', only, 'example.org')).toEqual({ host: 'example.org', user: 'alice' });
    expect(resolveAccount('alice@other.org', only, 'example.org')).toMatchObject({ code: 'VIGIL_ERR_UNKNOWN_HOST' });
    expect(resolveAccount('alice', only)).toMatchObject({ code: 'VIGIL_ERR_BAD_JID' });
  });
});
