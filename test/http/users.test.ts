import { afterEach, describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import { checkPassword } from '../../src/auth/users.js';
import { watchPbkdf2Jobs } from '../support/pbkdf2-jobs.js';
import { AUTH, HOST, type Rig, rig } from './rig.js';

let r: Rig;
afterEach(async () => r?.close());

const post = (payload: unknown, host = HOST) =>
  r.app.inject({ method: 'POST', url: `/v1/hosts/${host}/users`, headers: AUTH, payload: payload as object });

describe('/v1/hosts/{host}/users', () => {
  it('creates (normalised localpart, SCRAM only), lists and deletes users', async () => {
    r = rig();
    const created = await post({ user: 'Alice', password: 's3cret' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toEqual({ user: 'alice', created_at: r.clock.now() });
    expect(checkPassword(r.store, HOST, 'alice', 's3cret')).toBe(true);
    expect(JSON.stringify(r.store.users.get(HOST, 'alice'))).not.toContain('s3cret');

    const list = await r.app.inject({ method: 'GET', url: `/v1/hosts/${HOST}/users`, headers: AUTH });
    expect(list.json()).toEqual({ items: [{ user: 'alice', created_at: r.clock.now() }] });

    r.store.rosters.put(HOST, 'alice', { jid: 'bob@example.org', name: null, subscription: 'both', askOut: false, pendingIn: false, approved: false, groups: [] });
    const del = await r.app.inject({ method: 'DELETE', url: `/v1/hosts/${HOST}/users/ALICE`, headers: AUTH });
    expect(del.statusCode).toBe(204);
    expect(del.body).toBe('');
    expect(r.store.users.count(HOST)).toBe(0);
    expect(r.store.rosters.count(HOST, 'alice')).toBe(0);
  });

  it('existing user -> 409 VIGIL_ERR_USER_EXISTS', async () => {
    r = rig();
    await post({ user: 'alice', password: 'a' });
    const res = await post({ user: 'alice', password: 'b' });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('VIGIL_ERR_USER_EXISTS');
    expect(checkPassword(r.store, HOST, 'alice', 'a')).toBe(true);
  });

  it('unknown user -> 404 VIGIL_ERR_USER_NOT_FOUND', async () => {
    r = rig();
    const res = await r.app.inject({ method: 'DELETE', url: `/v1/hosts/${HOST}/users/nobody`, headers: AUTH });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('VIGIL_ERR_USER_NOT_FOUND');
  });

  it.each([
    [{ password: 'x' }, 'body.user', 'VIGIL_ERR_BAD_REQUEST'],
    [{ user: 'alice' }, 'body.password', 'VIGIL_ERR_BAD_REQUEST'],
    [{ user: '', password: 'x' }, 'body.user', 'VIGIL_ERR_BAD_REQUEST'],
    [{ user: 'alice', password: 'x', admin: true }, 'body.admin', 'VIGIL_ERR_BAD_REQUEST'],
    [{ user: 'a@b', password: 'x' }, undefined, 'VIGIL_ERR_BAD_JID'],
  ])('bad user body %j -> 400', async (body, field, code) => {
    r = rig();
    const res = await post(body);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe(code);
    if (field) expect(res.json().field).toBe(field);
  });

  it('unknown host -> 404 on every users route', async () => {
    r = rig();
    expect((await post({ user: 'a', password: 'b' }, 'nope.example')).json().code).toBe('VIGIL_ERR_UNKNOWN_HOST');
    for (const [method, url] of [
      ['GET', '/v1/hosts/nope.example/users'],
      ['DELETE', '/v1/hosts/nope.example/users/a'],
    ] as const) {
      const res = await r.app.inject({ method, url, headers: AUTH });
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('VIGIL_ERR_UNKNOWN_HOST');
    }
  });

  it('derives the credentials on the libuv pool, not on the event loop (issue 20)', async () => {
    r = rig();
    const jobs = watchPbkdf2Jobs();
    const res = await post({ user: 'pooled', password: 'p00l' }).finally(jobs.stop);
    expect(res.statusCode).toBe(201);
    expect(jobs.total).toBe(2); // SCRAM-SHA-1 and SCRAM-SHA-256
    expect(checkPassword(r.store, HOST, 'pooled', 'p00l')).toBe(true);
  });

  it('8 clients creating users at once: at most CPUs - 1 PBKDF2 runs at a time (the rest of the pool is for logins)', async () => {
    r = rig();
    const jobs = watchPbkdf2Jobs();
    const res = await Promise.all(Array.from({ length: 8 }, (_, i) => post({ user: `par${i}`, password: `p${i}` }))).finally(jobs.stop);
    expect(res.map((x) => x.statusCode)).toEqual(Array(8).fill(201));
    expect(jobs.total).toBe(16);
    expect(jobs.most).toBeLessThanOrEqual(Math.max(1, availableParallelism() - 1));
  });

  it('two requests creating the same user at once: one 201, one 409, the first password kept', async () => {
    r = rig();
    const [a, b] = await Promise.all([post({ user: 'twin', password: 'first' }), post({ user: 'twin', password: 'second' })]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([201, 409]);
    const winner = a.statusCode === 201 ? 'first' : 'second';
    expect(checkPassword(r.store, HOST, 'twin', winner)).toBe(true);
  });

  it('a password SASLprep refuses -> 400 VIGIL_ERR_BAD_PASSWORD naming body.password', async () => {
    r = rig();
    const res = await post({ user: 'ctl', password: 'a\u0007b' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VIGIL_ERR_BAD_PASSWORD', field: 'body.password' });
    expect(r.store.users.count(HOST)).toBe(0);
  });

  it('DELETE ends every XMPP resource and MQTT connection of the user (reason account_deleted), no one else', async () => {
    r = rig();
    await post({ user: 'alice', password: 'a' });
    const x1 = r.connect('xmpp', `alice@${HOST}/laptop`);
    const x2 = r.connect('xmpp', `alice@${HOST}/phone`);
    const m = r.connect('mqtt', 'sensor-1');
    r.presence.setMeta(m.ref, { username: 'alice' });
    const others = [r.connect('xmpp', `alicia@${HOST}/x`), r.connect('mqtt', 'sensor-2')];
    r.presence.setMeta(others[1]!.ref, { username: 'bob' });
    const after = r.presence.lastSeq();

    const del = await r.app.inject({ method: 'DELETE', url: `/v1/hosts/${HOST}/users/alice`, headers: AUTH });
    expect(del.statusCode).toBe(204);
    expect(r.adapter.kills.map((k) => [k.ref.id, k.reason])).toEqual([
      [`alice@${HOST}/laptop`, 'account_deleted'],
      [`alice@${HOST}/phone`, 'account_deleted'],
      ['sensor-1', 'account_deleted'],
    ]);
    expect([x1.live, x2.live, m.live, ...others.map((o) => o.live)]).toEqual([false, false, false, true, true]);
    const feed = r.presence.readFeed(after, 100);
    expect(feed.kind === 'ok' && feed.entries.filter((e) => e.kind === 'offline').map((e) => [e.id, e.reason])).toEqual([
      [`alice@${HOST}/laptop`, 'account_deleted'],
      [`alice@${HOST}/phone`, 'account_deleted'],
      ['sensor-1', 'account_deleted'],
    ]);
  });
});
