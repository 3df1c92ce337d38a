import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalHostSettings } from '../../src/host-settings.js';
import { DEFAULTS } from '../host-settings/contract.js';
import { AUTH, HOST, type Rig, rig } from './rig.js';

let r: Rig;
afterEach(async () => r?.close());

const patch = (url: string, payload: unknown) => r.app.inject({ method: 'PATCH', url, headers: AUTH, payload: payload as object });

describe('GET /v1/hosts', () => {
  it('lists hosts with settings and counts per transport', async () => {
    r = rig();
    r.connect('xmpp', 'alice@example.org/phone');
    r.connect('mqtt', 'sensor-1', { onIdle: 'expire', idleMs: 90_000 });
    r.connect('mqtt', 'sensor-2', { onIdle: 'expire', idleMs: 90_000 }).untrack('client_close');
    const res = await r.app.inject({ method: 'GET', url: '/v1/hosts', headers: AUTH });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      items: [
        {
          host: HOST,
          config: DEFAULTS,
          online: { xmpp: 1, mqtt: 1 },
          offline: { xmpp: 0, mqtt: 1 },
        },
      ],
    });
  });
});

describe('GET/PATCH /v1/hosts/{host}/config', () => {
  it('reads the settings', async () => {
    r = rig();
    const res = await r.app.inject({ method: 'GET', url: `/v1/hosts/${HOST}/config`, headers: AUTH });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      host: HOST,
      config: DEFAULTS,
      persisted: null,
    });
  });

  it('unknown host -> 404 VIGIL_ERR_UNKNOWN_HOST (GET and PATCH)', async () => {
    r = rig();
    const get = await r.app.inject({ method: 'GET', url: '/v1/hosts/nope.example/config', headers: AUTH });
    expect(get.statusCode).toBe(404);
    expect(get.json().code).toBe('VIGIL_ERR_UNKNOWN_HOST');
    const res = await patch('/v1/hosts/nope.example/config', { ping_interval: 5 });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('VIGIL_ERR_UNKNOWN_HOST');
    expect(r.liveness.hostConfig('nope.example')).toBeUndefined();
  });

  it('PATCH changes the settings live and re-arms timers: the next probe comes at the new interval', async () => {
    r = rig();
    r.connect('xmpp', 'alice@example.org/phone');
    r.scheduler.advance(10_000);
    const res = await patch(`/v1/hosts/${HOST}/config`, { ping_interval: 20, timeout_action: 'none' });
    expect(res.statusCode).toBe(200);
    expect(res.json().config).toMatchObject({ ping_interval: 20, timeout_action: 'none', ping_ack_timeout: 32 });
    expect(r.liveness.hostConfig(HOST)).toMatchObject({ ping_interval: 20, timeout_action: 'none' });
    r.scheduler.advance(9_000);
    expect(r.adapter.probes).toHaveLength(0);
    r.scheduler.advance(2_000);
    expect(r.adapter.probes.map((p) => p.id)).toEqual(['alice@example.org/phone']);
    expect(r.presence.count(HOST, 'xmpp', 'online')).toBe(1);
    expect(res.json().persisted).toBeNull();
    expect(r.store.hostConfig.get(HOST)).toBeUndefined();
  });

  it('?persist=true stores the overrides flat, merged over earlier ones', async () => {
    r = rig();
    expect((await patch(`/v1/hosts/${HOST}/config?persist=true`, { ping_interval: 5 })).statusCode).toBe(200);
    const res = await patch(`/v1/hosts/${HOST}/config?persist=true`, { mqtt_probe: 'pingreq' });
    expect(res.json().persisted).toEqual({ ping_interval: 5, mqtt_probe: 'pingreq' });
    expect(r.store.hostConfig.get(HOST)).toEqual({ ping_interval: 5, mqtt_probe: 'pingreq' });
    const get = await r.app.inject({ method: 'GET', url: `/v1/hosts/${HOST}/config`, headers: AUTH });
    expect(get.json()).toMatchObject({ config: { ping_interval: 5, mqtt_probe: 'pingreq' }, persisted: { ping_interval: 5, mqtt_probe: 'pingreq' } });
  });

  it('persisted overrides are what the host settings replay at startup (src/host-settings.ts)', async () => {
    r = rig();
    await patch(`/v1/hosts/${HOST}/config?persist=true`, { ping_interval: 7, timeout_action: 'none' });
    const replayed = createLocalHostSettings({ config: r.config, overrides: r.store.hostConfig, logger: pino({ level: 'silent' }) });
    expect(replayed.get(HOST)).toEqual({ ...DEFAULTS, ping_interval: 7, timeout_action: 'none' });
  });

  it('PATCH takes the stream management options (resend_on_timeout as ejabberd writes it: false | true | if_offline)', async () => {
    r = rig();
    const res = await patch(`/v1/hosts/${HOST}/config`, { resume_timeout: 600, resend_on_timeout: true, csi_inactive_ping_interval: 900 });
    expect(res.statusCode).toBe(200);
    expect(res.json().config).toMatchObject({ resume_timeout: 600, resend_on_timeout: 'true', csi_inactive_ping_interval: 900 });
    const off = await patch(`/v1/hosts/${HOST}/config`, { resend_on_timeout: 'if_offline', stream_management: false });
    expect(off.json().config).toMatchObject({ resend_on_timeout: 'if_offline', stream_management: false });
  });

  it.each([
    [{ resend_on_timeout: 'always' }, 'body.resend_on_timeout'],
    [{ max_ack_queue: 0 }, 'body.max_ack_queue'],
    [{ ping_interval: 0 }, 'body.ping_interval'],
    [{ ping_interval: 86_401 }, 'body.ping_interval'],
    [{ ping_interval: 1.5 }, 'body.ping_interval'],
    [{ ping_ack_timeout: 'soon' }, 'body.ping_ack_timeout'],
    [{ timeout_action: 'explode' }, 'body.timeout_action'],
    [{ mqtt_probe: 'magic' }, 'body.mqtt_probe'],
    [{ send_pings: 'yes' }, 'body.send_pings'],
    [{ send_pings: 'true' }, 'body.send_pings'],
    [{ ping_interval: '5' }, 'body.ping_interval'],
    [{ ping_intervall: 5 }, 'body.ping_intervall'],
  ])('bad PATCH %j -> 400 naming %s, nothing changed', async (body, field) => {
    r = rig();
    const res = await patch(`/v1/hosts/${HOST}/config`, body);
    expect(res.statusCode).toBe(400);
    const err = res.json();
    expect(err.code).toBe('VIGIL_ERR_BAD_REQUEST');
    expect(err.field).toBe(field);
    expect(err.message).toContain(field);
    expect(r.liveness.hostConfig(HOST)).toMatchObject({ ping_interval: 60, timeout_action: 'kill', mqtt_probe: 'keepalive' });
  });

  it('empty PATCH body object -> 400; non-JSON -> 400 VIGIL_ERR_BAD_JSON; bad persist -> 400', async () => {
    r = rig();
    expect((await patch(`/v1/hosts/${HOST}/config`, {})).json().code).toBe('VIGIL_ERR_BAD_REQUEST');
    const bad = await r.app.inject({
      method: 'PATCH',
      url: `/v1/hosts/${HOST}/config`,
      headers: { ...AUTH, 'content-type': 'application/json' },
      payload: '{"ping_interval":',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('VIGIL_ERR_BAD_JSON');
    const q = await patch(`/v1/hosts/${HOST}/config?persist=maybe`, { ping_interval: 5 });
    expect(q.statusCode).toBe(400);
    expect(q.json().field).toBe('query.persist');
  });

  it('unsupported content type -> 415; too large body -> 413', async () => {
    r = rig();
    const text = await r.app.inject({
      method: 'PATCH',
      url: `/v1/hosts/${HOST}/config`,
      headers: { ...AUTH, 'content-type': 'text/plain' },
      payload: 'ping_interval=5',
    });
    expect(text.statusCode).toBe(415);
    expect(text.json().code).toBe('VIGIL_ERR_UNSUPPORTED_MEDIA_TYPE');
    const big = await r.app.inject({
      method: 'PATCH',
      url: `/v1/hosts/${HOST}/config`,
      headers: { ...AUTH, 'content-type': 'application/json' },
      payload: JSON.stringify({ ping_interval: 5, pad: 'x'.repeat(70_000) }),
    });
    expect(big.statusCode).toBe(413);
    expect(big.json().code).toBe('VIGIL_ERR_BODY_TOO_LARGE');
  });
});
