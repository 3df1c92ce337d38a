/**
 * REST limits and access (issue 8): api.max_body_bytes refuses a larger body with 413 and counts
 * it; every /v1 route of the OpenAPI document (so a route added later is covered too) answers 401
 * without a token and 403 with a wrong one, before any handler runs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AUTH, HOST, type Rig, rig, testConfig } from '../http/rig.js';

let r: Rig;
afterEach(async () => r.close());

const hits = async (limit: string) => {
  const m = r.metrics.registry.getSingleMetric('vigil_http_limit_hits_total');
  return (await m?.get())?.values.find((v) => v.labels.limit === limit)?.value ?? 0;
};

describe('REST limits and access', () => {
  it('api.max_body_bytes: a larger body gets 413 VIGIL_ERR_BODY_TOO_LARGE and is counted', async () => {
    r = rig({ config: testConfig({ api: { max_body_bytes: 2_048 } }) });
    const big = { user: 'u1', password: 'p'.repeat(3_000) };
    const res = await r.app.inject({ method: 'POST', url: `/v1/hosts/${HOST}/users`, headers: { ...AUTH, 'content-type': 'application/json' }, payload: JSON.stringify(big) });
    expect(res.statusCode).toBe(413);
    expect(res.json().code).toBe('VIGIL_ERR_BODY_TOO_LARGE');
    expect(await hits('max_body_bytes')).toBe(1);
    const small = await r.app.inject({ method: 'POST', url: `/v1/hosts/${HOST}/users`, headers: AUTH, payload: { user: 'u1', password: 'pw' } });
    expect(small.statusCode).toBeLessThan(300);
  });

  it('the default body limit is 64 KiB', () => {
    expect(testConfig().api.max_body_bytes).toBe(65_536);
  });

  it('every /v1 route needs the bearer token (401 without, 403 with a wrong one)', async () => {
    r = rig();
    await r.app.ready();
    const doc = (await r.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, { security?: unknown[] }>> };
    const ops = Object.entries(doc.paths)
      // /v1/session is the dashboard's login, checked in test/http/session.test.ts.
      .filter(([p]) => p.startsWith('/v1/') && p !== '/v1/session')
      .flatMap(([p, methods]) => Object.entries(methods).map(([m, op]) => ({ method: m.toUpperCase(), path: p, url: p.replace(/\{[^}]+\}/g, 'x'), op })));
    // The only /v1 route outside the token: gateway webhook receivers carry their own secret (test/gateway/webhooks.test.ts).
    expect(ops.filter((o) => !o.op.security).map((o) => `${o.method} ${o.path}`)).toEqual(['POST /v1/gateways/{name}/events']);
    const routes = ops.filter((o) => o.op.security);
    expect(routes.length).toBeGreaterThanOrEqual(10);
    for (const route of routes) {
      const method = route.method as 'GET';
      const none = await r.app.inject({ method, url: route.url, ...(method === 'GET' || method === 'DELETE' ? {} : { payload: {} }) });
      expect([route.url, none.statusCode]).toEqual([route.url, 401]);
      const wrong = await r.app.inject({ method, url: route.url, headers: { authorization: 'Bearer not-the-token' } });
      expect([route.url, wrong.statusCode]).toEqual([route.url, 403]);
    }
  });
});
