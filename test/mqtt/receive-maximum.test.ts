/**
 * Issue 12 item 4: the server's Receive Maximum (5.0 §3.2.2.3.3, §3.3.4). CONNACK states it (the
 * host's max_awaiting_rel), and a v5 client with more QoS 1/2 PUBLISH unacknowledged than that gets
 * DISCONNECT 0x93 [MQTT-3.3.4-7]. 3.1.1 keeps max_awaiting_rel (refused past it, nothing closed).
 */
import { generate, type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { rig, settle } from './harness.js';

const generateV5 = (p: Packet) => generate(p, { protocolVersion: 5 });
const pub = (id: number, qos: 1 | 2, topic = 't'): Packet => ({ cmd: 'publish', topic, payload: Buffer.from(`${id}`), qos, retain: false, dup: false, messageId: id });

describe('Receive Maximum', () => {
  it('CONNACK states max_awaiting_rel; the 101st QoS 2 without PUBREL gets DISCONNECT 0x93, a duplicate does not count', async () => {
    const r = rig();
    const c = r.client(5);
    const [ack] = await c.connect({}, 'flood');
    expect(ack?.properties?.receiveMaximum).toBe(100);
    for (let id = 1; id <= 100; id++) c.send(pub(id, 2));
    c.send({ ...pub(100, 2), dup: true } as Packet); // the same id again: still 100 unacknowledged
    await settle();
    expect(c.take('pubrec')).toHaveLength(101);
    expect(c.closed).toBe(false);
    c.send({ cmd: 'pubrel', messageId: 1 });
    c.send(pub(101, 2)); // PUBREL freed one
    await settle();
    expect(c.closed).toBe(false);
    c.send(pub(102, 2));
    await settle();
    expect(c.take('disconnect').map((d) => d.reasonCode)).toEqual([0x93]);
    expect(c.closed).toBe(true);
  });

  it('QoS 1 counts while its PUBACK waits for the store: past the maximum in one read -> 0x93', async () => {
    const r = rig({ mqtt: { max_awaiting_rel: 3 } });
    const offline = r.client(4);
    await offline.connect({ clean: false }, 'keeper'); // a persistent session: routing writes to the store
    offline.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't', qos: 1 }] });
    await settle();
    offline.drop();
    await settle();
    const c = r.client(5);
    const [ack] = await c.connect({}, 'burst');
    expect(ack?.properties?.receiveMaximum).toBe(3);
    c.raw(Buffer.concat([1, 2, 3].map((id) => generateV5(pub(id, 1)))));
    await settle();
    expect(c.take('puback')).toHaveLength(3); // 3 owed at once is the maximum, not past it
    c.raw(Buffer.concat([4, 5, 6, 7].map((id) => generateV5(pub(id, 1)))));
    await settle();
    expect(c.take('disconnect').map((d) => d.reasonCode)).toEqual([0x93]);
  });

  it('3.1.1 has no Receive Maximum: past max_awaiting_rel a QoS 2 PUBLISH is dropped, the connection stays', async () => {
    const r = rig({ mqtt: { max_awaiting_rel: 2 } });
    const c = r.client(4);
    const [ack] = await c.connect({}, 'v3');
    expect(ack).toBeDefined();
    for (let id = 1; id <= 3; id++) c.send(pub(id, 2));
    await settle();
    expect(c.take('pubrec')).toHaveLength(3);
    expect(c.closed).toBe(false);
    expect(r.service.broker.sessions.figures('example.org', 'v3')?.droppedAwaitingRelFull).toBe(1);
  });
});
