import { afterEach, describe, expect, it } from 'vitest';
import { AUTH, HOST, type Rig, rig } from './rig.js';

let r: Rig;
afterEach(async () => r?.close());

const get = (url: string) => r.app.inject({ method: 'GET', url, headers: AUTH });
const enc = encodeURIComponent;

describe('GET /v1/hosts/{host}/endpoints', () => {
  it('pages through endpoints in connection order with next_cursor', async () => {
    r = rig();
    for (let i = 0; i < 5; i++) r.connect('mqtt', `c${i}`, { onIdle: 'expire', idleMs: 60_000 });
    const p1 = await get(`/v1/hosts/${HOST}/endpoints?limit=2`);
    expect(p1.statusCode).toBe(200);
    const b1 = p1.json();
    expect(b1.items.map((e: { id: string }) => e.id)).toEqual(['c0', 'c1']);
    expect(typeof b1.next_cursor).toBe('string');
    const b2 = (await get(`/v1/hosts/${HOST}/endpoints?limit=2&cursor=${b1.next_cursor}`)).json();
    expect(b2.items.map((e: { id: string }) => e.id)).toEqual(['c2', 'c3']);
    const b3 = (await get(`/v1/hosts/${HOST}/endpoints?limit=2&cursor=${b2.next_cursor}`)).json();
    expect(b3.items.map((e: { id: string }) => e.id)).toEqual(['c4']);
    expect(b3.next_cursor).toBeNull();
  });

  it('serves every presence-table field', async () => {
    r = rig();
    const h = r.connect('xmpp', 'alice@example.org/phone');
    r.presence.setAvailability(h.ref, { available: true, show: 'away', status: 'lunch', priority: 5 });
    r.presence.setMeta(h.ref, { ip: '127.0.0.1', tls: true });
    const [item] = (await get(`/v1/hosts/${HOST}/endpoints`)).json().items;
    expect(item).toEqual({
      host: HOST,
      transport: 'xmpp',
      source: 'local',
      id: 'alice@example.org/phone',
      generation: h.ref.generation,
      state: 'online',
      available: true,
      show: 'away',
      status: 'lunch',
      priority: 5,
      liveness: 'active',
      connected_at: r.clock.now(),
      disconnected_at: null,
      last_activity_at: r.clock.now(),
      next_deadline_at: r.clock.now() + 60_000,
      resumable_until: null,
      last_rtt_ms: null,
      last_disconnect_reason: null,
      meta: { ip: '127.0.0.1', tls: true },
    });
  });

  it('filters by transport, state and liveness', async () => {
    r = rig();
    r.connect('xmpp', 'alice@example.org/a');
    r.connect('mqtt', 'm1', { onIdle: 'expire', idleMs: 60_000 });
    r.connect('mqtt', 'm2', { onIdle: 'expire', idleMs: 60_000 }).untrack('client_close');
    const ids = async (q: string) => (await get(`/v1/hosts/${HOST}/endpoints?${q}`)).json().items.map((e: { id: string }) => e.id);
    expect(await ids('transport=mqtt')).toEqual(['m1', 'm2']);
    expect(await ids('state=offline')).toEqual(['m2']);
    expect(await ids('transport=mqtt&state=online')).toEqual(['m1']);
    r.scheduler.advance(60_000); // xmpp endpoint idle -> probing
    expect(await ids('liveness=probing')).toEqual(['alice@example.org/a']);
  });

  it.each([
    ['limit=0', 'query.limit'],
    ['limit=1001', 'query.limit'],
    ['limit=ten', 'query.limit'],
    ['transport=smtp', 'query.transport'],
    ['state=sleeping', 'query.state'],
    ['liveness=dead', 'query.liveness'],
    ['cursor=%2F%2F', 'query.cursor'],
    ['colour=red', 'query.colour'],
  ])('bad query %s -> 400 naming %s', async (q, field) => {
    r = rig();
    const res = await get(`/v1/hosts/${HOST}/endpoints?${q}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VIGIL_ERR_BAD_REQUEST', field });
  });

  it('unknown host -> 404', async () => {
    r = rig();
    const res = await get('/v1/hosts/nope.example/endpoints');
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('VIGIL_ERR_UNKNOWN_HOST');
  });
});

describe('GET /v1/hosts/{host}/endpoints/{transport}/{id}', () => {
  it('answers one MQTT endpoint with its session figures in meta', async () => {
    r = rig();
    const h = r.connect('mqtt', 'dev/1 ü', { onIdle: 'expire', idleMs: 90_000 });
    r.presence.setFigures(h.ref, () => ({ inflight: 2, queue: 7, drops: 1, expiry_at: null }));
    const res = await get(`/v1/hosts/${HOST}/endpoints/mqtt/${enc('dev/1 ü')}`);
    expect(res.statusCode).toBe(200);
    const { items } = res.json();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ id: 'dev/1 ü', transport: 'mqtt', meta: { inflight: 2, queue: 7, drops: 1, expiry_at: null } });
  });

  it('a bare JID answers all its resources; a full JID only that one; JIDs are normalised', async () => {
    r = rig();
    r.connect('xmpp', 'alice@example.org/phone');
    r.connect('xmpp', 'alice@example.org/laptop');
    r.connect('xmpp', 'alicia@example.org/x');
    const bare = (await get(`/v1/hosts/${HOST}/endpoints/xmpp/${enc('Alice@Example.org')}`)).json();
    expect(bare.items.map((e: { id: string }) => e.id)).toEqual(['alice@example.org/phone', 'alice@example.org/laptop']);
    const full = (await get(`/v1/hosts/${HOST}/endpoints/xmpp/${enc('alice@example.org/laptop')}`)).json();
    expect(full.items.map((e: { id: string }) => e.id)).toEqual(['alice@example.org/laptop']);
  });

  it('offline endpoints keep their last disconnect reason', async () => {
    r = rig();
    r.connect('mqtt', 'gone', { onIdle: 'expire', idleMs: 60_000 }).untrack('socket_error');
    const [e] = (await get(`/v1/hosts/${HOST}/endpoints/mqtt/gone`)).json().items;
    expect(e).toMatchObject({ state: 'offline', last_disconnect_reason: 'socket_error', liveness: null });
  });

  it('unknown endpoint -> 404 VIGIL_ERR_ENDPOINT_NOT_FOUND; unknown host -> 404; bad transport -> 400; bad JID -> 400', async () => {
    r = rig();
    const none = await get(`/v1/hosts/${HOST}/endpoints/mqtt/nobody`);
    expect(none.statusCode).toBe(404);
    expect(none.json().code).toBe('VIGIL_ERR_ENDPOINT_NOT_FOUND');
    expect((await get('/v1/hosts/nope.example/endpoints/mqtt/x')).json().code).toBe('VIGIL_ERR_UNKNOWN_HOST');
    const t = await get(`/v1/hosts/${HOST}/endpoints/smtp/x`);
    expect(t.statusCode).toBe(400);
    expect(t.json().field).toBe('params.transport');
    const jid = await get(`/v1/hosts/${HOST}/endpoints/xmpp/${enc('a b@example.org')}`);
    expect(jid.statusCode).toBe(400);
    expect(jid.json().code).toBe('VIGIL_ERR_BAD_JID');
  });
});
