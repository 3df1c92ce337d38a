/** A wrong method on a known path: 405 with Allow (RFC 9110 §15.5.6); an unknown path: 404. */
import { afterEach, describe, expect, it } from 'vitest';
import { patternToRegExp } from '../../src/http/method-not-allowed.js';
import { AUTH, HOST, type Rig, rig } from './rig.js';

let r: Rig;
afterEach(async () => r?.close());

describe('405 Method Not Allowed', () => {
  it.each([
    ['PUT', `/v1/hosts/${HOST}/users`, 'GET, HEAD, POST'],
    ['GET', `/v1/hosts/${HOST}/users/import`, 'DELETE, POST'], // DELETE: the user named "import"
    ['POST', '/v1/hosts', 'GET, HEAD'],
    ['DELETE', `/v1/hosts/${HOST}/config`, 'GET, HEAD, PATCH'],
    ['POST', '/healthz?x=1', 'GET, HEAD'],
    ['PATCH', `/v1/hosts/${HOST}/endpoints/mqtt/sensor-1`, 'DELETE, GET, HEAD'],
  ])('%s %s -> 405, Allow: %s, VIGIL_ERR_METHOD_NOT_ALLOWED', async (method, url, allow) => {
    r = rig();
    const res = await r.app.inject({ method: method as 'GET', url, headers: AUTH });
    expect(res.statusCode).toBe(405);
    expect(res.headers['allow']).toBe(allow);
    expect(res.json()).toMatchObject({ code: 'VIGIL_ERR_METHOD_NOT_ALLOWED', message: expect.stringContaining(`allowed: ${allow}`) });
  });

  it('an unknown path is still 404 VIGIL_ERR_ROUTE_NOT_FOUND, whatever the method', async () => {
    r = rig();
    for (const [method, url] of [['GET', '/v1/nothing'], ['POST', '/v2/hosts'], ['DELETE', `/v1/hosts/${HOST}/users/a/b`]] as const) {
      const res = await r.app.inject({ method, url, headers: AUTH });
      expect(res.statusCode).toBe(404);
      expect(res.headers['allow']).toBeUndefined();
      expect(res.json().code).toBe('VIGIL_ERR_ROUTE_NOT_FOUND');
    }
  });

  it('matches find-my-way patterns: a param is one segment, * the rest', () => {
    expect(patternToRegExp('/v1/hosts/:host/users').test('/v1/hosts/a.b/users')).toBe(true);
    expect(patternToRegExp('/v1/hosts/:host/users').test('/v1/hosts/a/b/users')).toBe(false);
    expect(patternToRegExp('/docs/*').test('/docs/static/x.js')).toBe(true);
    expect(patternToRegExp('/a.b').test('/aXb')).toBe(false);
  });
});
