/**
 * Webhook receivers with recorded payloads that match EMQX's and VerneMQ's documentation
 * (fixtures/), replayed in order, duplicated and reversed through POST /v1/gateways/{name}/events;
 * the credentials each gateway can send (Bearer, Basic from the URL's user info, HMAC of the body)
 * and what is refused.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { HOST, type Rig, TOKEN, rig, testConfig } from '../http/rig.js';
import { until } from '../support/until.js';
import { FakeApi } from './fake-api.js';

const load = (f: string) => JSON.parse(readFileSync(new URL(`./fixtures/${f}`, import.meta.url), 'utf8')) as Record<string, unknown>;
const EMQX = load('emqx-rule-events.json') as { events: object[]; final_online: string[] };
const VMQ = load('vernemq-hooks.json') as { calls: { hook: string; body: object }[]; final_online: string[] };

let r: Rig;
let api: FakeApi | null = null;
afterEach(async () => {
  await r?.close();
  await api?.stop();
  api = null;
});

function make(apiUrl: string | null = null) {
  r = rig({
    config: testConfig({
      gateways: {
        emqx1: { kind: 'emqx', host: HOST, webhook: { secret: 'emqx-secret', max_body_bytes: 2048 } },
        vmq1: { kind: 'vernemq', host: HOST, offline_debounce_ms: 1_000, poll_interval: 0, webhook: { secret: 'vmq-secret' }, api: { url: apiUrl, token: apiUrl ? 'vmq-key' : null } },
      },
    }),
  });
  return r;
}

const post = (gw: string, body: unknown, headers: Record<string, string> = {}) =>
  r.app.inject({ method: 'POST', url: `/v1/gateways/${gw}/events`, headers: { 'content-type': 'application/json', ...headers }, payload: typeof body === 'string' ? body : JSON.stringify(body) });
const bearer = (s: string) => ({ authorization: `Bearer ${s}` });
const basic = (user: string, s: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${s}`).toString('base64')}` });

function online(source: string): string[] {
  return r.presence.list(HOST, { source, state: 'online' }, 100, null).items.map((v) => v.id).sort();
}
function feedOf(source: string): string[] {
  const f = r.presence.readFeed(0, 1000);
  if (f.kind !== 'ok') throw new Error('gone');
  return f.entries.filter((e) => e.source === source).map((e) => `${e.kind}:${e.id}${e.reason ? `:${e.reason}` : ''}`);
}

describe('EMQX rule-engine webhooks (connected_at orders sessions)', () => {
  const replay = async (events: object[]) => {
    for (const e of events) expect((await post('emqx1', e, bearer('emqx-secret'))).statusCode).toBe(200);
  };

  it('in order: rows follow, with source, reasons mapped and the gateway word kept', async () => {
    make();
    await replay(EMQX.events);
    expect(online('emqx1')).toEqual(EMQX.final_online);
    expect(feedOf('emqx1')).toEqual([
      'online:sensor-1',
      'online:sensor-1',
      'online:sensor-2',
      'offline:sensor-2:client_close',
      'offline:sensor-1:keepalive_timeout',
      'online:sensor-1',
    ]);
    const row = r.presence.get({ host: HOST, transport: 'mqtt', id: 'sensor-1', source: 'emqx1' });
    expect(row).toMatchObject({ source: 'emqx1', connected_at: 1694681530000, meta: { username: 'dev', peer: '10.0.0.8:40299', proto_ver: 5, node: 'emqx@10.0.0.1' } });
  });

  it('duplicated: every event twice changes nothing more, and the copies are counted', async () => {
    make();
    await replay(EMQX.events.flatMap((e) => [e, e]));
    expect(online('emqx1')).toEqual(EMQX.final_online);
    expect(feedOf('emqx1')).toHaveLength(6);
    const res = await post('emqx1', EMQX.events[0], bearer('emqx-secret'));
    expect(res.json()).toEqual({ accepted: 1, ignored: 0, applied: 0, duplicate: 0, stale: 1 });
  });

  it('reversed: no row ever moves backwards; the newest session wins, the ended ones never come online', async () => {
    make();
    await replay([...EMQX.events].reverse());
    expect(online('emqx1')).toEqual(EMQX.final_online);
    expect(feedOf('emqx1')).toEqual(['online:sensor-1']);
    const text = (await r.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toMatch(/vigil_gateway_events_total\{gateway="emqx1",kind="emqx",event="connected",outcome="stale"\} 3/);
  });

  it('takes a batch (an array of events) in one call', async () => {
    make();
    const res = await post('emqx1', EMQX.events.slice(0, 3), bearer('emqx-secret'));
    expect(res.json()).toEqual({ accepted: 3, ignored: 0, applied: 2, duplicate: 0, stale: 1 });
  });
});

describe('VerneMQ webhooks (no ordering key: debounced offline)', () => {
  const call = (c: { hook: string; body: object }) => post('vmq1', c.body, { ...basic('vernemq', 'vmq-secret'), 'vernemq-hook': c.hook });

  it('in order and duplicated: offline waits offline_debounce_ms; a re-register meanwhile keeps plant-b online', async () => {
    for (const calls of [VMQ.calls, VMQ.calls.flatMap((c) => [c, c])]) {
      make();
      for (const c of calls) expect((await call(c)).statusCode).toBe(200);
      expect(online('vmq1')).toEqual(['plant-a', 'plant-b', 'site1/plant-c']);
      r.scheduler.advance(1_000);
      expect(online('vmq1')).toEqual(VMQ.final_online);
      expect(feedOf('vmq1').filter((e) => e.includes('plant-b'))).toEqual(['online:plant-b', 'online:plant-b']);
      await r.close();
    }
  });

  it("reversed: the REST decides what the order cannot (a check at the end of the wait, then a snapshot)", async () => {
    api = new FakeApi();
    const truth = [
      { client_id: 'plant-b', mountpoint: '', peer_host: '10.1.0.6', peer_port: 50003, user: 'plant', is_online: true },
      { client_id: 'plant-c', mountpoint: 'site1', peer_host: '10.1.0.7', peer_port: 50004, user: 'undefined', is_online: true },
    ];
    api.routes.set('GET /api/v1/session/show', (s) => {
      const m = /--client_id=([^&]+)/.exec(s.url);
      return { status: 200, body: { type: 'table', table: m ? truth.filter((t) => t.client_id === decodeURIComponent(m[1]!)) : truth } };
    });
    make(await api.start());
    for (const c of [...VMQ.calls].reverse()) expect((await call(c)).statusCode).toBe(200);
    r.scheduler.advance(1_000);
    await until(() => api!.seen.length === 1, { capMs: 5_000, everyMs: 5 });
    expect(api.seen[0]!.url).toContain('--client_id=plant-b');
    expect(api.seen[0]!.headers['x-api-key']).toBe('vmq-key');
    await r.gateways.get('vmq1')!.snapshot();
    expect(online('vmq1')).toEqual(VMQ.final_online);
    expect(r.presence.get({ host: HOST, transport: 'mqtt', id: 'plant-a', source: 'vmq1' })?.meta).toMatchObject({ gateway_reason: 'not_listed' });
  });

  it('ignores hooks that say nothing about presence, and needs the vernemq-hook header', async () => {
    make();
    const res = await call(VMQ.calls.at(-1)!);
    expect(res.json()).toMatchObject({ accepted: 0, ignored: 1 });
    const bad = await post('vmq1', VMQ.calls[0]!.body, basic('x', 'vmq-secret'));
    expect([bad.statusCode, bad.json().code]).toEqual([400, 'VIGIL_ERR_WEBHOOK_BAD_EVENT']);
  });
});

describe('webhook credentials and limits', () => {
  const event = () => EMQX.events[0]!;

  it('accepts Bearer, Basic and an HMAC-SHA256 signature of the raw body; refuses the rest', async () => {
    make();
    const raw = JSON.stringify(event());
    const sig = `sha256=${createHmac('sha256', 'emqx-secret').update(raw).digest('hex')}`;
    const codes = async (h: Record<string, string>, body: string = raw) => {
      const res = await post('emqx1', body, h);
      return res.statusCode === 200 ? 200 : `${res.statusCode} ${res.json().code}`;
    };
    expect(await codes(bearer('emqx-secret'))).toBe(200);
    expect(await codes(basic('anyone', 'emqx-secret'))).toBe(200);
    expect(await codes({ 'x-vigil-signature': sig })).toBe(200);
    expect(await codes({})).toBe('401 VIGIL_ERR_WEBHOOK_AUTH_MISSING');
    expect(await codes(bearer('wrong'))).toBe('403 VIGIL_ERR_WEBHOOK_AUTH_INVALID');
    expect(await codes(bearer(TOKEN))).toBe('403 VIGIL_ERR_WEBHOOK_AUTH_INVALID'); // the API token is not a webhook secret
    expect(await codes(bearer('vmq-secret'))).toBe('403 VIGIL_ERR_WEBHOOK_AUTH_INVALID'); // nor another gateway's
    expect(await codes({ 'x-vigil-signature': sig }, raw.replace('sensor-1', 'sensor-X'))).toBe('403 VIGIL_ERR_WEBHOOK_AUTH_INVALID');
    const metrics = (await r.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/vigil_gateway_rejected_total\{gateway="emqx1",why="auth"\} 5/);
  });

  it('refuses a large body, bad JSON, a malformed event (nothing of it applied), an unknown gateway, text/plain', async () => {
    make();
    const big = { ...event(), pad: 'x'.repeat(4096) };
    const res = async (gw: string, body: unknown, h: Record<string, string> = bearer('emqx-secret')) => {
      const x = await post(gw, body, h);
      return `${x.statusCode} ${x.json().code}`;
    };
    expect(await res('emqx1', big)).toBe('413 VIGIL_ERR_BODY_TOO_LARGE');
    expect(await res('emqx1', '{"event":')).toBe('400 VIGIL_ERR_BAD_JSON');
    expect(await res('emqx1', [event(), { event: 'client.connected' }])).toBe('400 VIGIL_ERR_WEBHOOK_BAD_EVENT');
    expect(online('emqx1')).toEqual([]);
    expect(await res('nope', event())).toBe('404 VIGIL_ERR_GATEWAY_NOT_FOUND');
    const plain = await r.app.inject({ method: 'POST', url: '/v1/gateways/emqx1/events', headers: { 'content-type': 'text/plain', ...bearer('emqx-secret') }, payload: 'x' });
    expect(plain.statusCode).toBe(415);
  });
});
