import { afterEach, describe, expect, it } from 'vitest';
import { AUTH, type Rig, TOKEN, rig } from './rig.js';

let r: Rig;
afterEach(async () => r?.close());

const V1 = [
  ['GET', '/v1/hosts'],
  ['GET', '/v1/hosts/example.org/config'],
  ['PATCH', '/v1/hosts/example.org/config'],
  ['GET', '/v1/hosts/example.org/endpoints'],
  ['GET', '/v1/hosts/example.org/endpoints/mqtt/c1'],
  ['DELETE', '/v1/hosts/example.org/endpoints/mqtt/c1'],
  ['POST', '/v1/hosts/example.org/endpoints/mqtt/c1/ping'],
  ['GET', '/v1/events'],
  ['GET', '/v1/hosts/example.org/users'],
  ['POST', '/v1/hosts/example.org/users'],
  ['DELETE', '/v1/hosts/example.org/users/alice'],
] as const;

describe('bearer token on /v1', () => {
  it.each(V1)('%s %s without a token -> 401 VIGIL_ERR_AUTH_MISSING', async (method, url) => {
    r = rig();
    const res = await r.app.inject({ method, url });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ code: 'VIGIL_ERR_AUTH_MISSING', message: expect.any(String) });
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it.each(V1)('%s %s with a wrong token -> 403 VIGIL_ERR_AUTH_INVALID', async (method, url) => {
    r = rig();
    const res = await r.app.inject({ method, url, headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({ code: 'VIGIL_ERR_AUTH_INVALID', message: expect.any(String) });
  });

  it('a non-Bearer scheme counts as missing', async () => {
    r = rig();
    const res = await r.app.inject({ method: 'GET', url: '/v1/hosts', headers: { authorization: `Basic ${TOKEN}` } });
    expect(res.statusCode).toBe(401);
  });

  it('the scheme is case-insensitive (RFC 7235 §2.1)', async () => {
    r = rig();
    const res = await r.app.inject({ method: 'GET', url: '/v1/hosts', headers: { authorization: `bearer ${TOKEN}` } });
    expect(res.statusCode).toBe(200);
  });

  it('auth runs before validation: a bad body without a token is 401, not 400', async () => {
    r = rig();
    const res = await r.app.inject({ method: 'PATCH', url: '/v1/hosts/example.org/config', payload: { nope: 1 } });
    expect(res.statusCode).toBe(401);
  });

  it('health, metrics and docs need no token', async () => {
    r = rig();
    for (const url of ['/healthz', '/readyz', '/metrics', '/openapi.json']) {
      expect((await r.app.inject({ method: 'GET', url })).statusCode, url).toBe(200);
    }
    expect((await r.app.inject({ method: 'GET', url: '/v1/hosts', headers: AUTH })).statusCode).toBe(200);
  });
});
