import { afterEach, describe, expect, it } from 'vitest';
import { AUTH, HOST, type Rig, rig } from './rig.js';
import { until } from '../support/until.js';

let r: Rig;
afterEach(async () => r?.close());

const enc = encodeURIComponent;
const kick = (transport: string, id: string, host = HOST) =>
  r.app.inject({ method: 'DELETE', url: `/v1/hosts/${host}/endpoints/${transport}/${enc(id)}`, headers: AUTH });
const ping = (transport: string, id: string, host = HOST) =>
  r.app.inject({ method: 'POST', url: `/v1/hosts/${host}/endpoints/${transport}/${enc(id)}/ping`, headers: AUTH });

/** Let inject() reach the handler (app boot, hooks, parsing) until the probe went out (under load the first boot takes many turns). */
const settle = () => until(() => r.adapter.probes.length > 0, { what: 'the probe' });

describe('DELETE .../endpoints/{transport}/{id} (kick)', () => {
  it('kills through the liveness handle with reason kicked; the table records it', async () => {
    r = rig();
    const h = r.connect('mqtt', 'sensor-1', { onIdle: 'expire', idleMs: 60_000 });
    const res = await kick('mqtt', 'sensor-1');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ kicked: [{ transport: 'mqtt', id: 'sensor-1', generation: h.ref.generation }] });
    expect(r.adapter.kills).toEqual([{ ref: h.ref, reason: 'kicked' }]);
    expect(r.presence.get(h.ref)).toMatchObject({ state: 'offline', last_disconnect_reason: 'kicked' });
  });

  it('a bare JID kicks every resource', async () => {
    r = rig();
    r.connect('xmpp', 'bob@example.org/a');
    r.connect('xmpp', 'bob@example.org/b');
    const res = await kick('xmpp', 'bob@example.org');
    expect(res.json().kicked.map((k: { id: string }) => k.id)).toEqual(['bob@example.org/a', 'bob@example.org/b']);
    expect(r.adapter.kills.map((k) => k.reason)).toEqual(['kicked', 'kicked']);
  });

  it('not connected (offline or unknown) -> 404; unknown host -> 404', async () => {
    r = rig();
    r.connect('mqtt', 'old', { onIdle: 'expire', idleMs: 60_000 }).untrack('client_close');
    for (const id of ['old', 'never']) {
      const res = await kick('mqtt', id);
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('VIGIL_ERR_ENDPOINT_NOT_FOUND');
    }
    expect((await kick('mqtt', 'x', 'nope.example')).json().code).toBe('VIGIL_ERR_UNKNOWN_HOST');
    expect(r.adapter.kills).toEqual([]);
  });
});

describe('POST .../endpoints/{transport}/{id}/ping (ping-now)', () => {
  it('answers {rtt_ms} when the endpoint answers', async () => {
    r = rig();
    const h = r.connect('xmpp', 'alice@example.org/phone');
    const pending = ping('xmpp', 'alice@example.org/phone');
    await settle();
    expect(r.adapter.probes.map((p) => p.id)).toEqual(['alice@example.org/phone']);
    r.scheduler.advance(42);
    h.answered('pong');
    const res = await pending;
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: 'alice@example.org/phone', rtt_ms: 42, answer: 'pong' });
  });

  it('service-unavailable still proves life: 200 with answer unsupported', async () => {
    r = rig();
    const h = r.connect('xmpp', 'alice@example.org/phone');
    const pending = ping('xmpp', 'alice@example.org/phone');
    await settle();
    r.scheduler.advance(7);
    h.answered('unsupported');
    expect((await pending).json()).toEqual({ id: 'alice@example.org/phone', rtt_ms: 7, answer: 'unsupported' });
  });

  it('a bare JID with one resource pings it', async () => {
    r = rig();
    const h = r.connect('xmpp', 'alice@example.org/only');
    const pending = ping('xmpp', 'alice@example.org');
    await settle();
    h.answered('pong');
    expect((await pending).json()).toMatchObject({ id: 'alice@example.org/only', rtt_ms: 0 });
  });

  it('no answer within ping_ack_timeout -> 504 VIGIL_ERR_PING_TIMEOUT, connection kept', async () => {
    r = rig();
    r.connect('xmpp', 'alice@example.org/phone');
    const pending = ping('xmpp', 'alice@example.org/phone');
    await settle();
    r.scheduler.advance(32_000);
    const res = await pending;
    expect(res.statusCode).toBe(504);
    expect(res.json().code).toBe('VIGIL_ERR_PING_TIMEOUT');
    expect(r.adapter.kills).toEqual([]);
  });

  it('unprobeable (MQTT with mqtt_probe keepalive) -> 409 saying why', async () => {
    r = rig();
    r.adapter.unprobeable = 'mqtt_probe is keepalive: MQTT clients are not sent PINGREQ';
    r.connect('mqtt', 'sensor', { onIdle: 'expire', idleMs: 60_000 });
    const res = await ping('mqtt', 'sensor');
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({
      code: 'VIGIL_ERR_PING_UNPROBEABLE',
      message: expect.stringContaining('mqtt_probe is keepalive'),
    });
  });

  it('disconnect during the probe -> 404', async () => {
    r = rig();
    const h = r.connect('xmpp', 'alice@example.org/phone');
    const pending = ping('xmpp', 'alice@example.org/phone');
    await settle();
    h.untrack('socket_error');
    const res = await pending;
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('VIGIL_ERR_ENDPOINT_NOT_FOUND');
  });

  it('bare JID with several resources -> 409 ambiguous; not connected -> 404; unknown host -> 404', async () => {
    r = rig();
    r.connect('xmpp', 'bob@example.org/a');
    r.connect('xmpp', 'bob@example.org/b');
    const amb = await ping('xmpp', 'bob@example.org');
    expect(amb.statusCode).toBe(409);
    expect(amb.json().code).toBe('VIGIL_ERR_ENDPOINT_AMBIGUOUS');
    expect((await ping('mqtt', 'nobody')).json().code).toBe('VIGIL_ERR_ENDPOINT_NOT_FOUND');
    expect((await ping('mqtt', 'x', 'nope.example')).json().code).toBe('VIGIL_ERR_UNKNOWN_HOST');
  });
});
