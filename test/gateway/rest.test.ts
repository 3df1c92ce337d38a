/**
 * Gateway rows through the REST API: GET /v1/gateways, `?source=` on reads, and kick / ping-now on
 * a gateway row: 409 unless the kind has an API for it and `api` is configured (EMQX DELETE
 * /api/v5/clients/{id} on a recorded API), 502 when that API fails.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientEvent } from '../../src/gateway/types.js';
import { AUTH, HOST, type Rig, rig, testConfig } from '../http/rig.js';
import { FakeApi } from './fake-api.js';

let r: Rig;
let api: FakeApi;
afterEach(async () => {
  await r?.close();
  await api?.stop();
});

const ev = (id: string, o: Partial<ClientEvent> = {}): ClientEvent => ({ type: 'connected', id, order: null, at: null, sentAt: null, reason: null, node: null, meta: {}, ...o });
const get = (url: string) => r.app.inject({ method: 'GET', url, headers: AUTH });
const act = (method: 'DELETE' | 'POST', id: string, q = '') =>
  r.app.inject({ method, url: `/v1/hosts/${HOST}/endpoints/mqtt/${encodeURIComponent(id)}${method === 'POST' ? '/ping' : ''}${q}`, headers: AUTH });

async function make(emqxApi: boolean) {
  api = new FakeApi();
  const url = await api.start();
  r = rig({
    config: testConfig({
      gateways: {
        aedes1: { kind: 'aedes', host: HOST, mqtt: { url: 'mqtt://127.0.0.1:1' } },
        emqx1: { kind: 'emqx', host: HOST, webhook: { secret: 's' }, poll_interval: 0, ...(emqxApi ? { api: { url, username: 'key', password: 'secret' } } : {}) },
      },
    }),
  });
  r.gateways.get('aedes1')!.ingest([ev('dev1', { node: 'b1' })]);
  r.gateways.get('emqx1')!.ingest([ev('dev1', { order: 1_000, at: 1_000, sentAt: r.clock.now() - 25 }), ev('dev2', { order: 1_000, at: 1_000 })]);
  r.connect('mqtt', 'dev1');
}

describe('gateway rows over REST', () => {
  it('GET /v1/gateways lists state, channels, last event, lag and counts behind the API token', async () => {
    await make(false);
    expect((await r.app.inject({ method: 'GET', url: '/v1/gateways' })).statusCode).toBe(401);
    const items = (await get('/v1/gateways')).json().items as Record<string, unknown>[];
    expect(items.map((g) => [g.name, g.kind, g.state])).toEqual([
      ['aedes1', 'aedes', 'starting'],
      ['emqx1', 'emqx', 'unmonitored'],
    ]);
    expect(items[1]).toMatchObject({ online: 2, last_event_at: r.clock.now(), lag_ms: 25, channels: { watcher: null, webhook: true, api: null }, counts: { applied: 2, duplicate: 0, stale: 0 } });
    expect(items[0]).toMatchObject({ channels: { watcher: { state: 'idle', last_lost: null, rtt_ms: null, refused: [] } } });
  });

  it('filters on ?source= and reads one id across every source unless told', async () => {
    await make(false);
    const ids = async (q: string) => (await get(`/v1/hosts/${HOST}/endpoints${q}`)).json().items.map((v: { source: string; id: string }) => `${v.source}/${v.id}`);
    expect(await ids('?source=emqx1')).toEqual(['emqx1/dev1', 'emqx1/dev2']);
    expect(await ids('?source=local')).toEqual(['local/dev1']);
    expect(await ids('')).toEqual(['aedes1/dev1', 'emqx1/dev1', 'emqx1/dev2', 'local/dev1']);
    const one = (await get(`/v1/hosts/${HOST}/endpoints/mqtt/dev1`)).json().items.map((v: { source: string }) => v.source);
    expect(one).toEqual(['local', 'aedes1', 'emqx1']);
    expect((await get(`/v1/hosts/${HOST}/endpoints/mqtt/dev1?source=aedes1`)).json().items).toHaveLength(1);
    const bad = await get(`/v1/hosts/${HOST}/endpoints?source=nope`);
    expect([bad.statusCode, bad.json().code]).toEqual([404, 'VIGIL_ERR_GATEWAY_NOT_FOUND']);
  });

  it('answers 409 to kick and ping-now of a gateway row that its gateway cannot act on', async () => {
    await make(false);
    const expect409 = async (res: Awaited<ReturnType<typeof act>>, text: RegExp) => {
      expect([res.statusCode, res.json().code]).toEqual([409, 'VIGIL_ERR_GATEWAY_ACTION_UNSUPPORTED']);
      expect(res.json().message).toMatch(text);
    };
    await expect409(await act('DELETE', 'dev1', '?source=aedes1'), /aedes has no API to disconnect a client/);
    await expect409(await act('DELETE', 'dev2'), /emqx1 has no api configured/);
    await expect409(await act('POST', 'dev2'), /ping: emqx1 \(emqx\) reports this row/);
    // The local connection of the same id is still Vigil's to kick.
    expect((await act('DELETE', 'dev1')).json()).toMatchObject({ kicked: [{ id: 'dev1' }] });
    expect(r.adapter.kills).toHaveLength(1);
  });

  it("kicks an EMQX row through DELETE /api/v5/clients/{id} with the API key; 502 when the API fails", async () => {
    await make(true);
    api.routes.set('DELETE /api/v5/clients/dev2', () => ({ status: 204 }));
    const res = await act('DELETE', 'dev2', '?source=emqx1');
    expect([res.statusCode, res.json()]).toEqual([200, { kicked: [{ transport: 'mqtt', id: 'dev2', generation: expect.any(Number), source: 'emqx1' }] }]);
    expect(r.presence.get({ host: HOST, transport: 'mqtt', id: 'dev2', source: 'emqx1' })).toMatchObject({ state: 'offline', last_disconnect_reason: 'kicked' });
    const del = api.seen.find((s) => s.method === 'DELETE')!;
    expect(del.headers.authorization).toBe(`Basic ${Buffer.from('key:secret').toString('base64')}`);
    api.routes.set('DELETE /api/v5/clients/dev1', () => ({ status: 500, body: { code: 'INTERNAL_ERROR' } }));
    const failed = await act('DELETE', 'dev1', '?source=emqx1');
    expect([failed.statusCode, failed.json().code]).toEqual([502, 'VIGIL_ERR_GATEWAY_API_FAILED']);
    // Two gateways hold dev1 and there is no local connection any more: name one.
    r.liveness.get({ host: HOST, transport: 'mqtt', id: 'dev1' })?.untrack('client_close');
    expect((await act('DELETE', 'dev1')).json().code).toBe('VIGIL_ERR_ENDPOINT_AMBIGUOUS');
  });
});
