/**
 * Dashboard sessions (issue 18): POST /v1/session trades the API token for an HttpOnly,
 * SameSite=Strict cookie holding a random id; /v1 accepts that cookie as well as the bearer token;
 * changes made with the cookie need the session's X-CSRF-Token and a same-origin request.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { testConfig, AUTH, HOST, type Rig, TOKEN, rig } from './rig.js';

let r: Rig;
afterEach(async () => r?.close());

const SITE = { host: 'vigil.test', origin: 'http://vigil.test' };

async function login(token = TOKEN, headers: Record<string, string> = SITE) {
  const res = await r.app.inject({ method: 'POST', url: '/v1/session', headers, payload: { token } });
  const setCookie = String(res.headers['set-cookie'] ?? '');
  const cookie = /^vigil_session=([^;]*)/.exec(setCookie)?.[0] ?? '';
  return { res, setCookie, cookie, csrf: res.statusCode === 200 ? (res.json().csrf_token as string) : '' };
}

describe('POST /v1/session', () => {
  it('sets an HttpOnly, SameSite=Strict session cookie that is not the token, and answers a CSRF token', async () => {
    r = rig();
    const { res, setCookie, cookie, csrf } = await login();
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(setCookie).toMatch(/^vigil_session=[A-Za-z0-9_-]{43}; Max-Age=28800; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(setCookie).not.toContain(TOKEN);
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(res.json().expires_at).toBe(r.clock.now() + 28_800_000);
    // The cookie alone reads /v1.
    const hosts = await r.app.inject({ method: 'GET', url: '/v1/hosts', headers: { cookie } });
    expect(hosts.statusCode).toBe(200);
  });

  it('adds Secure when the browser came over TLS (behind a TLS proxy too: an https Origin of this host)', async () => {
    r = rig();
    const plain = await login();
    expect(plain.setCookie).not.toContain('Secure');
    const proxied = await login(TOKEN, { host: 'vigil.test', origin: 'https://vigil.test' });
    expect(proxied.res.statusCode).toBe(200);
    expect(proxied.setCookie).toMatch(/; Secure$/);
    // A forwarded header alone changes nothing (no trustProxy).
    const forwarded = await r.app.inject({ method: 'POST', url: '/v1/session', headers: { 'x-forwarded-proto': 'https' }, payload: { token: TOKEN } });
    expect(String(forwarded.headers['set-cookie'])).not.toContain('Secure');
  });

  it('refuses a wrong token with 401 VIGIL_ERR_LOGIN_FAILED and no cookie', async () => {
    r = rig();
    const { res, setCookie } = await login(`${TOKEN}x`);
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('VIGIL_ERR_LOGIN_FAILED');
    expect(setCookie).toBe('');
    expect(await r.metrics.registry.metrics()).toMatch(/vigil_http_logins_total\{result="wrong_token"\} 1/);
  });

  it('refuses a login posted from another origin (login CSRF)', async () => {
    r = rig();
    const { res } = await login(TOKEN, { host: 'vigil.test', origin: 'http://evil.test' });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('VIGIL_ERR_CSRF');
  });

  it('never takes the token from the query string', async () => {
    r = rig();
    const res = await r.app.inject({ method: 'POST', url: `/v1/session?token=${TOKEN}`, headers: SITE, payload: {} });
    expect(res.statusCode).toBe(400);
  });
});

describe('cookie authentication on /v1', () => {
  it('GET /v1/session answers the CSRF token again (after a reload); without a session 401', async () => {
    r = rig();
    const { cookie, csrf } = await login();
    const again = await r.app.inject({ method: 'GET', url: '/v1/session', headers: { cookie } });
    expect(again.json().csrf_token).toBe(csrf);
    const none = await r.app.inject({ method: 'GET', url: '/v1/session' });
    expect(none.statusCode).toBe(401);
    expect(none.json().code).toBe('VIGIL_ERR_SESSION_INVALID');
  });

  it('a change with the cookie needs X-CSRF-Token and the same origin', async () => {
    r = rig();
    const { cookie, csrf } = await login();
    const patch = (headers: Record<string, string>) =>
      r.app.inject({ method: 'PATCH', url: `/v1/hosts/${HOST}/config`, headers: { cookie, host: SITE.host, ...headers }, payload: { ping_interval: 5 } });
    const refused = [
      {},
      { 'x-csrf-token': 'nope' },
      { 'x-csrf-token': csrf, origin: 'http://evil.test' },
      { 'x-csrf-token': csrf, origin: 'http://vigil.test.evil.test' },
      { 'x-csrf-token': csrf, origin: 'null' },
      { 'x-csrf-token': csrf, 'sec-fetch-site': 'cross-site' },
    ];
    for (const headers of refused) {
      const res = await patch(headers);
      expect(res.statusCode, JSON.stringify(headers)).toBe(403);
      expect(res.json().code).toBe('VIGIL_ERR_CSRF');
    }
    expect(r.liveness.hostConfig(HOST)?.ping_interval).toBe(60);
    const ok = await patch({ 'x-csrf-token': csrf, origin: SITE.origin });
    expect(ok.statusCode).toBe(200);
    expect(r.liveness.hostConfig(HOST)?.ping_interval).toBe(5);
  });

  it('the CSRF token of one session does not pass for another', async () => {
    r = rig();
    const a = await login();
    const b = await login();
    const res = await r.app.inject({ method: 'DELETE', url: `/v1/hosts/${HOST}/endpoints/mqtt/c1`, headers: { cookie: a.cookie, 'x-csrf-token': b.csrf, ...SITE } });
    expect(res.statusCode).toBe(403);
  });

  it('a bearer token still works alone and wins over a cookie', async () => {
    r = rig();
    const res = await r.app.inject({ method: 'PATCH', url: `/v1/hosts/${HOST}/config`, headers: { ...AUTH, cookie: 'vigil_session=' + 'a'.repeat(43) }, payload: { ping_interval: 7 } });
    expect(res.statusCode).toBe(200);
  });

  it('an unknown or expired session cookie gets 401 VIGIL_ERR_SESSION_INVALID and is cleared', async () => {
    r = rig(); // api.session_ttl 28800 s
    const { cookie } = await login();
    r.clock.set(r.clock.now() + 28_800_000);
    const res = await r.app.inject({ method: 'GET', url: '/v1/hosts', headers: { cookie } });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('VIGIL_ERR_SESSION_INVALID');
    expect(String(res.headers['set-cookie'])).toMatch(/^vigil_session=; Max-Age=0;/);
    const forged = await r.app.inject({ method: 'GET', url: '/v1/events', headers: { cookie: `vigil_session=${'b'.repeat(43)}`, accept: 'application/json' } });
    expect(forged.statusCode).toBe(401);
  });

  it('DELETE /v1/session logs out (with the CSRF token) and the cookie stops working', async () => {
    r = rig();
    const { cookie, csrf } = await login();
    const refused = await r.app.inject({ method: 'DELETE', url: '/v1/session', headers: { cookie, ...SITE } });
    expect(refused.statusCode).toBe(403);
    const out = await r.app.inject({ method: 'DELETE', url: '/v1/session', headers: { cookie, 'x-csrf-token': csrf, ...SITE } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/^vigil_session=; Max-Age=0; Path=\/; HttpOnly; SameSite=Strict$/);
    expect((await r.app.inject({ method: 'GET', url: '/v1/hosts', headers: { cookie } })).statusCode).toBe(401);
    // Logging out twice is harmless.
    expect((await r.app.inject({ method: 'DELETE', url: '/v1/session', headers: { cookie } })).statusCode).toBe(204);
  });

  it('api.max_sessions bounds the sessions: the oldest login ends first, counted', async () => {
    r = rig({ config: testConfig({ api: { max_sessions: 2 } }) });
    const first = await login();
    await login();
    await login();
    expect((await r.app.inject({ method: 'GET', url: '/v1/hosts', headers: { cookie: first.cookie } })).statusCode).toBe(401);
    expect(await r.metrics.registry.metrics()).toMatch(/vigil_http_limit_hits_total\{limit="max_sessions"\} 1/);
  });

  it('the OpenAPI document declares the cookie scheme and the session routes', async () => {
    r = rig();
    const doc = (await r.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(doc.components.securitySchemes.session).toMatchObject({ type: 'apiKey', in: 'cookie', name: 'vigil_session' });
    expect(Object.keys(doc.paths['/v1/session'])).toEqual(expect.arrayContaining(['post', 'get', 'delete']));
    expect(doc.paths['/v1/hosts'].get.security).toEqual([{ bearer: [] }, { session: [] }]);
    expect(doc.paths['/dashboard']).toBeUndefined();
  });
});
