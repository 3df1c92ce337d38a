/** POST /v1/hosts/{host}/users/import (src/http/routes/users-import.ts). */
import { afterEach, describe, expect, it } from 'vitest';
import { deriveCredential } from '../../src/auth/scram.js';
import { checkPassword, makeUserRecord } from '../../src/auth/users.js';
import { AUTH, HOST, type Rig, rig, testConfig } from './rig.js';

let r: Rig;
afterEach(async () => r?.close());

const importBody = (payload: string, type = 'text/csv', host = HOST, headers: Record<string, string> = AUTH) =>
  r.app.inject({ method: 'POST', url: `/v1/hosts/${host}/users/import`, headers: { ...headers, 'content-type': type }, payload });

describe('POST /v1/hosts/{host}/users/import', () => {
  it('imports CSV lines, reporting created / existing / invalid per line; a retry creates nothing', async () => {
    r = rig();
    r.store.users.put(makeUserRecord(HOST, 'bob', 'kept', r.clock, 64));
    const csv = `jid,password\nalice@${HOST},a1\nbob,new\ncarol@other.org,c\n# done\ndave,"d,1"\n`;
    const res = await importBody(csv);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      created: 2,
      existing: 1,
      invalid: 1,
      lines: [
        { line: 2, jid: `alice@${HOST}`, status: 'created' },
        { line: 3, jid: `bob@${HOST}`, status: 'existing' },
        { line: 4, jid: 'carol@other.org', status: 'invalid', code: 'VIGIL_ERR_UNKNOWN_HOST', reason: `other.org is not this route's host ${HOST}` },
        { line: 6, jid: `dave@${HOST}`, status: 'created' },
      ],
    });
    expect(checkPassword(r.store, HOST, 'dave', 'd,1')).toBe(true);
    expect(checkPassword(r.store, HOST, 'bob', 'kept')).toBe(true);
    const again = await importBody(csv);
    expect(again.json()).toMatchObject({ created: 0, existing: 3, invalid: 1 });
  });

  it('imports JSON lines, with a password or pre-hashed SCRAM credentials', async () => {
    r = rig();
    const sha1 = deriveCredential('sha1', 'from-ejabberd', 4096);
    const scram = { salt: sha1.salt.toString('base64'), iterations: 4096, stored_key: sha1.storedKey.toString('base64'), server_key: sha1.serverKey.toString('base64') };
    const body = [JSON.stringify({ jid: 'erin', password: 'e' }), JSON.stringify({ jid: `old@${HOST}`, scram_sha_1: scram }), '{"jid": 1}'].join('\n');
    const res = await importBody(body, 'application/x-ndjson');
    expect(res.json()).toMatchObject({ created: 2, invalid: 1, lines: [{ status: 'created' }, { status: 'created' }, { line: 3, code: 'VIGIL_ERR_IMPORT_BAD_LINE' }] });
    expect(checkPassword(r.store, HOST, 'old', 'from-ejabberd')).toBe(true);
    expect(r.store.users.get(HOST, 'old')?.scramSha256).toBeNull();
  });

  it('more accounts than api.import_max_lines -> 413 VIGIL_ERR_IMPORT_TOO_MANY_LINES, nothing imported', async () => {
    r = rig({ config: testConfig({ api: { import_max_lines: 2 } }) });
    const res = await importBody('# three accounts\na,1\nb,2\n\nc,3\n');
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'VIGIL_ERR_IMPORT_TOO_MANY_LINES', message: expect.stringContaining('3 accounts') });
    expect(r.store.users.count(HOST)).toBe(0);
    expect((await importBody('a,1\n# comment\nb,2\n')).json()).toMatchObject({ created: 2 });
  });

  it('a body over api.import_max_bytes -> 413 VIGIL_ERR_BODY_TOO_LARGE; the import limit is its own', async () => {
    r = rig({ config: testConfig({ api: { import_max_bytes: 1024 } }) });
    const big = Array.from({ length: 60 }, (_, i) => `user${i},password${i}`).join('\n');
    expect(big.length).toBeGreaterThan(1024);
    const res = await importBody(big);
    expect(res.statusCode).toBe(413);
    expect(res.json().code).toBe('VIGIL_ERR_BODY_TOO_LARGE');
    expect(r.store.users.count(HOST)).toBe(0);
  });

  it('refuses a JSON body, an unknown host and a missing token', async () => {
    r = rig();
    expect((await importBody('{"jid":"a","password":"b"}', 'application/json')).statusCode).toBe(400);
    expect((await importBody('a,b', 'text/csv', 'nope.example')).json().code).toBe('VIGIL_ERR_UNKNOWN_HOST');
    expect((await importBody('a,b', 'text/csv', HOST, {})).statusCode).toBe(401);
    expect((await importBody('a,b', 'application/xml')).statusCode).toBe(415);
    expect(r.store.users.count(HOST)).toBe(0);
  });

  it('is in the OpenAPI document under users', async () => {
    r = rig();
    await r.app.ready();
    const doc = (await r.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const op = doc.paths['/v1/hosts/{host}/users/import'].post;
    expect(op.tags).toEqual(['users']);
    expect(Object.keys(op.requestBody.content)).toContain('text/csv');
    expect(op.security).toEqual([{ bearer: [] }, { session: [] }]);
  });
});
