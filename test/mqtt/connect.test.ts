import { describe, expect, it } from 'vitest';
import { HOST, OTHER, rig, settle } from './harness.js';

describe('CONNECT', () => {
  it('accepts an anonymous 3.1.1 client and tracks it in liveness and presence', async () => {
    const r = rig();
    const c = r.client(4);
    const [ack] = await c.connect({ keepalive: 10 });
    expect(ack).toMatchObject({ returnCode: 0, sessionPresent: false });
    const h = r.liveness.get({ host: HOST, transport: 'mqtt', id: 'c1' });
    expect(h?.live).toBe(true);
    const row = r.presence.get({ host: HOST, transport: 'mqtt', id: 'c1' });
    expect(row?.state).toBe('online');
    expect(row?.meta).toMatchObject({ protocol_level: 4, keepalive: 10, clean_start: true, username: null });
  });

  it('refuses anonymous clients where allow_anonymous is false (3.1.1: 5, v5: 0x87)', async () => {
    const r = rig({ mqtt: { allow_anonymous: false } });
    const [v3] = await r.client(4).connect();
    expect(v3?.returnCode).toBe(5);
    const c5 = r.client(5);
    const [v5] = await c5.connect();
    expect(v5?.reasonCode).toBe(0x87);
    await settle();
    expect(c5.closed).toBe(true);
  });

  it('checks username and password against the host users; user@host selects the host', async () => {
    const r = rig();
    r.addUser(HOST, 'alice', 'secret');
    r.addUser(OTHER, 'bob', 'pw');
    expect((await r.client(4).connect({ username: 'alice', password: Buffer.from('secret') }, 'a1'))[0]?.returnCode).toBe(0);
    // Usernames are normalised like XMPP localparts; host names are case-insensitive.
    expect((await r.client(4).connect({ username: 'Alice@Example.ORG', password: Buffer.from('secret') }, 'a0'))[0]?.returnCode).toBe(0);
    expect((await r.client(4).connect({ username: 'alice', password: Buffer.from('nope') }, 'a2'))[0]?.returnCode).toBe(4);
    expect((await r.client(5).connect({ username: 'alice', password: Buffer.from('nope') }, 'a3'))[0]?.reasonCode).toBe(0x86);
    // bob exists only on other.org: plain "bob" maps to the default host and fails.
    expect((await r.client(4).connect({ username: 'bob', password: Buffer.from('pw') }, 'b1'))[0]?.returnCode).toBe(4);
    expect((await r.client(4).connect({ username: 'bob@other.org', password: Buffer.from('pw') }, 'b2'))[0]?.returnCode).toBe(0);
    expect(r.liveness.get({ host: OTHER, transport: 'mqtt', id: 'b2' })?.live).toBe(true);
    expect(r.presence.get({ host: OTHER, transport: 'mqtt', id: 'b2' })?.meta.username).toBe('bob');
  });

  it('refuses an empty client id with clean session 0 [MQTT-3.1.3-8] and assigns one otherwise', async () => {
    const r = rig();
    const c = r.client(4);
    c.raw(Buffer.from([0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x00, 0, 60, 0, 0])); // clean session 0, empty id
    await settle();
    expect(c.take('connack')[0]?.returnCode).toBe(2);
    expect((await r.client(4).connect({ clean: true }, ''))[0]?.returnCode).toBe(0);
    const [v5] = await r.client(5).connect({ clean: true }, '');
    expect(v5?.reasonCode).toBe(0);
    expect(v5?.properties?.assignedClientIdentifier).toMatch(/^vigil-/);
  });

  it('imposes max_keepalive: v5 gets Server Keep Alive [MQTT-3.2.2-21], v3 is refused', async () => {
    const r = rig({ mqtt: { max_keepalive: 30 } });
    const [v5] = await r.client(5).connect({ keepalive: 0 }, 'k5');
    expect(v5?.properties?.serverKeepAlive).toBe(30);
    const [v3] = await r.client(4).connect({ keepalive: 100 }, 'k3');
    expect(v3?.returnCode).toBe(2);
    const [ok] = await r.client(4).connect({ keepalive: 20 }, 'k4');
    expect(ok?.returnCode).toBe(0);
  });

  it('closes a connection whose first packet is not CONNECT [MQTT-3.1.0-1]', async () => {
    const r = rig();
    const c = r.client(4);
    c.send({ cmd: 'pingreq' });
    await settle();
    expect(c.closed).toBe(true);
    expect(c.received).toEqual([]);
  });

  it('treats a second CONNECT as a protocol error and publishes the will [MQTT-3.1.0-2]', async () => {
    const r = rig();
    const sub = r.client(4);
    await sub.connect({}, 'sub');
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'will/#', qos: 0 }] });
    const c = r.client(4);
    await c.connect({ will: { topic: 'will/c1', payload: Buffer.from('gone'), qos: 0, retain: false } });
    c.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'c1', clean: true, keepalive: 60 });
    await settle();
    expect(c.closed).toBe(true);
    expect(sub.take('publish').map((p) => p.payload.toString())).toEqual(['gone']);
    expect(r.presence.get({ host: HOST, transport: 'mqtt', id: 'c1' })?.last_disconnect_reason).toBe('protocol_error');
  });

  it('answers an unsupported protocol level with CONNACK 1', async () => {
    const r = rig();
    const c = r.client(4);
    const buf = Buffer.from([0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 9, 2, 0, 60, 0, 0]);
    c.raw(buf);
    await settle();
    expect(c.take('connack')[0]?.returnCode).toBe(1);
    expect(c.closed).toBe(true);
  });

  it('closes connections that send nothing within connect_timeout', async () => {
    const r = rig({ mqtt: { connect_timeout: 5 } });
    const c = r.client(4);
    await r.advance(4_000);
    expect(c.closed).toBe(false);
    await r.advance(2_000);
    expect(c.closed).toBe(true);
  });

  it('limits connections per IP (3.1.1: 3, v5: 0x9F)', async () => {
    const r = rig({ mqtt: { max_connections_per_ip: 1 } });
    expect((await r.client(4, '1.2.3.4').connect({}, 'x1'))[0]?.returnCode).toBe(0);
    expect((await r.client(4, '1.2.3.4').connect({}, 'x2'))[0]?.returnCode).toBe(3);
    expect((await r.client(5, '1.2.3.4').connect({}, 'x3'))[0]?.reasonCode).toBe(0x9f);
    expect((await r.client(4, '1.2.3.5').connect({}, 'x4'))[0]?.returnCode).toBe(0);
    // A reconnect that takes over x1 from the same address is not an extra connection.
    expect((await r.client(4, '1.2.3.4').connect({}, 'x1'))[0]?.returnCode).toBe(0);
  });
});

describe('MQTT 3.1 (MQIsdp)', () => {
  it('accepts a 3.1 client and refuses its empty client id', async () => {
    const r = rig();
    const c = r.client(3);
    const [ack] = await c.connect({ protocolId: 'MQIsdp', protocolVersion: 3 }, 'old-device');
    expect(ack?.returnCode).toBe(0);
    expect(r.presence.get({ host: HOST, transport: 'mqtt', id: 'old-device' })?.meta.protocol_level).toBe(3);
    const e = r.client(3);
    e.raw(Buffer.from([0x10, 14, 0, 6, 0x4d, 0x51, 0x49, 0x73, 0x64, 0x70, 3, 0x02, 0, 60, 0, 0]));
    await settle();
    expect(e.take('connack')[0]?.returnCode).toBe(2);
  });
});
