import { afterEach, describe, expect, it, vi } from 'vitest';
import { AUTH, type Rig, rig } from './rig.js';

let r: Rig;
afterEach(async () => r?.close());

describe('health, readiness, docs', () => {
  it('GET /healthz answers without auth', async () => {
    r = rig();
    const res = await r.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz follows ready() and lists services', async () => {
    r = rig({
      ready: false,
      services: [{ name: 'xmpp', start: async () => {}, stop: async () => {}, address: () => ({ host: '127.0.0.1', port: 5222 }) }],
    });
    const down = await r.app.inject({ method: 'GET', url: '/readyz' });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ code: 'VIGIL_ERR_NOT_READY' });
    r.setReady(true);
    const up = await r.app.inject({ method: 'GET', url: '/readyz' });
    expect(up.statusCode).toBe(200);
    expect(up.json()).toEqual({ status: 'ready', services: [{ name: 'xmpp', address: { host: '127.0.0.1', port: 5222 } }] });
  });

  it('GET /readyz is 503 once the store is closed', async () => {
    r = rig();
    r.store.close();
    const res = await r.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json().message).toMatch(/store/);
  });

  it('GET /openapi.json documents every /v1 route with the bearer scheme', async () => {
    r = rig();
    const res = await r.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/healthz',
        '/readyz',
        '/metrics',
        '/v1/hosts',
        '/v1/hosts/{host}/config',
        '/v1/hosts/{host}/endpoints',
        '/v1/hosts/{host}/endpoints/{transport}/{id}',
        '/v1/hosts/{host}/endpoints/{transport}/{id}/ping',
        '/v1/events',
        '/v1/hosts/{host}/users',
        '/v1/hosts/{host}/users/{user}',
      ]),
    );
    expect(doc.paths['/v1/hosts'].get.security).toEqual([{ bearer: [] }, { session: [] }]);
    expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
  });

  it('GET /docs serves the UI', async () => {
    r = rig();
    const res = await r.app.inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/html/);
  });

  it('unknown routes get a catalog 404', async () => {
    r = rig();
    const res = await r.app.inject({ method: 'GET', url: '/v2/nothing', headers: AUTH });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'VIGIL_ERR_ROUTE_NOT_FOUND' });
  });

  it('a failure inside a route is a catalog 500 that does not leak the cause', async () => {
    r = rig();
    vi.spyOn(r.presence, 'list').mockImplementation(() => {
      throw new Error('secret internals');
    });
    const res = await r.app.inject({ method: 'GET', url: '/v1/hosts/example.org/endpoints', headers: AUTH });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ code: 'VIGIL_ERR_INTERNAL', message: 'Internal error' });
  });
});
