import { generate } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { HOST, rig, settle } from './harness.js';

async function withWatcher() {
  const r = rig({ mqtt: { max_packet_size: 128 } });
  const sub = r.client(4);
  await sub.connect({}, 'watcher');
  sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'will/#', qos: 0 }] });
  await settle();
  const bad = async (version: 4 | 5, id: string) => {
    const c = r.client(version);
    await c.connect({ will: { topic: `will/${id}`, payload: Buffer.from(id), qos: 0, retain: false } }, id);
    return c;
  };
  const wills = () => sub.take('publish').map((p) => p.payload.toString());
  return { r, sub, bad, wills };
}

describe('bad input', () => {
  it('wrong reserved flags close the connection [MQTT-2.2.2-2]; the will is published; others unaffected', async () => {
    const { r, sub, bad, wills } = await withWatcher();
    const c = await bad(4, 'flags');
    const sub0 = Buffer.from(generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'x', qos: 0 }] }));
    sub0[0] = 0x80; // SUBSCRIBE must carry flags 0b0010
    c.raw(sub0);
    await settle();
    expect(c.closed).toBe(true);
    expect(wills()).toEqual(['flags']);
    expect(r.presence.get({ host: HOST, transport: 'mqtt', id: 'flags' })?.last_disconnect_reason).toBe('protocol_error');
    sub.send({ cmd: 'pingreq' });
    await settle();
    expect(sub.take('pingresp')).toHaveLength(1);
  });

  it('QoS 3 is malformed', async () => {
    const { bad, wills } = await withWatcher();
    const c = await bad(4, 'qos3');
    c.raw(Buffer.from([0x36, 5, 0, 1, 0x61, 0, 1]));
    await settle();
    expect(c.closed).toBe(true);
    expect(wills()).toEqual(['qos3']);
  });

  it('an oversize packet closes the connection (v5: DISCONNECT 0x95) before it is buffered whole', async () => {
    const { bad, wills } = await withWatcher();
    const c = await bad(5, 'big');
    const big = generate({ cmd: 'publish', topic: 'will/x', payload: Buffer.alloc(1000), qos: 0, retain: false, dup: false }, { protocolVersion: 5 });
    c.raw(big.subarray(0, 20)); // the header announces 1000+ bytes
    await settle();
    expect(c.take('disconnect')[0]?.reasonCode).toBe(0x95);
    expect(c.closed).toBe(true);
    expect(wills()).toEqual(['big']);
  });

  it('a topic name with a wildcard or invalid UTF-8 closes the connection (v5: 0x90)', async () => {
    const { bad, wills } = await withWatcher();
    const c = await bad(5, 'wild');
    c.send({ cmd: 'publish', topic: 'a/+', payload: Buffer.from('x'), qos: 0, retain: false, dup: false });
    await settle();
    expect(c.take('disconnect')[0]?.reasonCode).toBe(0x90);
    expect(c.closed).toBe(true);
    const u = await bad(4, 'utf8');
    u.raw(Buffer.from([0x30, 5, 0, 2, 0xc3, 0x28, 0x21])); // 0xC3 0x28 is ill-formed UTF-8 [MQTT-1.5.3-1]
    await settle();
    expect(u.closed).toBe(true);
    expect(wills()).toEqual(['wild', 'utf8']);
  });

  it('a server-to-client packet from a client is a protocol error', async () => {
    const { bad, wills } = await withWatcher();
    const c = await bad(5, 'connack');
    c.send({ cmd: 'connack', sessionPresent: false, reasonCode: 0 });
    await settle();
    expect(c.take('disconnect')[0]?.reasonCode).toBe(0x82);
    expect(wills()).toEqual(['connack']);
  });

  it('garbage before CONNECT closes without a will', async () => {
    const { r, wills } = await withWatcher();
    const c = r.client(4);
    c.raw(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    await settle();
    expect(c.closed).toBe(true);
    expect(wills()).toEqual([]);
  });
});

describe('internal errors', () => {
  it('a failure while handling one client closes that client, not the server', async () => {
    const { r, sub } = await withWatcher();
    const users = r.store.users;
    const get = users.get.bind(users);
    users.get = (host, user) => {
      if (user === 'boom') throw new Error('store failure');
      return get(host, user);
    };
    const c = r.client(5);
    c.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'b', clean: true, keepalive: 0, username: 'boom', password: Buffer.from('x') });
    await settle();
    expect(c.closed).toBe(true);
    sub.send({ cmd: 'pingreq' });
    await settle();
    expect(sub.take('pingresp')).toHaveLength(1);
  });
});
