import { describe, expect, it } from 'vitest';
import { HOST, rig, settle } from './harness.js';

describe('publish / subscribe', () => {
  it('QoS 0, 1 and 2 round trips with overlapping subscriptions delivered once at the highest QoS', async () => {
    const r = rig();
    const sub = r.client(4);
    await sub.connect({}, 'sub');
    sub.send({ cmd: 'subscribe', messageId: 7, subscriptions: [{ topic: 'a/+', qos: 1 }, { topic: 'a/#', qos: 2 }, { topic: '#', qos: 0 }] });
    await settle();
    expect(sub.take('suback')[0]).toMatchObject({ messageId: 7, granted: [1, 2, 0] });

    const pub = r.client(4);
    await pub.connect({}, 'pub');
    pub.send({ cmd: 'publish', topic: 'a/b', payload: Buffer.from('q0'), qos: 0, retain: false, dup: false });
    pub.send({ cmd: 'publish', topic: 'a/b', payload: Buffer.from('q1'), qos: 1, messageId: 11, retain: false, dup: false });
    pub.send({ cmd: 'publish', topic: 'a/b', payload: Buffer.from('q2'), qos: 2, messageId: 12, retain: false, dup: false });
    await settle();
    expect(pub.take('puback')).toEqual([expect.objectContaining({ messageId: 11 })]);
    expect(pub.take('pubrec')).toEqual([expect.objectContaining({ messageId: 12 })]);
    pub.send({ cmd: 'pubrel', messageId: 12 });
    await settle();
    expect(pub.take('pubcomp')).toEqual([expect.objectContaining({ messageId: 12 })]);

    const got = sub.take('publish');
    expect(got.map((p) => [p.payload.toString(), p.qos])).toEqual([
      ['q0', 0],
      ['q1', 1],
      ['q2', 2],
    ]);
    const [q1, q2] = [got[1]!, got[2]!];
    expect(q1.messageId).not.toBe(q2.messageId);
    sub.send({ cmd: 'puback', messageId: q1.messageId! });
    sub.send({ cmd: 'pubrec', messageId: q2.messageId! });
    await settle();
    expect(sub.take('pubrel')).toEqual([expect.objectContaining({ messageId: q2.messageId })]);
    sub.send({ cmd: 'pubcomp', messageId: q2.messageId! });
    await settle();
    const session = r.service.broker;
    expect(session.connectionCount).toBe(2);
  });

  it('does not route a duplicate QoS 2 PUBLISH awaiting PUBREL twice [MQTT-4.3.3-9]', async () => {
    const r = rig();
    const sub = r.client(4);
    await sub.connect({}, 'sub');
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't', qos: 0 }] });
    const pub = r.client(4);
    await pub.connect({}, 'pub');
    const p = { cmd: 'publish', topic: 't', payload: Buffer.from('x'), qos: 2, messageId: 5, retain: false, dup: false } as const;
    pub.send(p);
    pub.send({ ...p, dup: true });
    await settle();
    expect(pub.take('pubrec')).toHaveLength(2);
    expect(sub.take('publish')).toHaveLength(1);
  });

  it('keeps $-topics away from first-level wildcards [MQTT-4.7.2-1]', async () => {
    const r = rig();
    const sub = r.client(4);
    await sub.connect({}, 'sub');
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '#', qos: 0 }, { topic: '+/x', qos: 0 }] });
    const sys = r.client(4);
    await sys.connect({}, 'sys');
    sys.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$SYS/#', qos: 0 }] });
    const pub = r.client(4);
    await pub.connect({}, 'pub');
    pub.send({ cmd: 'publish', topic: '$SYS/x', payload: Buffer.from('s'), qos: 0, retain: false, dup: false });
    await settle();
    expect(sub.take('publish')).toHaveLength(0);
    expect(sys.take('publish')).toHaveLength(1);
  });

  it('stores retained messages, delivers them on subscribe with RETAIN=1 and clears them with an empty payload', async () => {
    const r = rig();
    const pub = r.client(4);
    await pub.connect({}, 'pub');
    pub.send({ cmd: 'publish', topic: 'r/1', payload: Buffer.from('kept'), qos: 1, messageId: 1, retain: true, dup: false });
    await settle();
    expect(r.store.retained.count(HOST)).toBe(1);
    const sub = r.client(4);
    await sub.connect({}, 'sub');
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'r/#', qos: 1 }] });
    await settle();
    const [m] = sub.take('publish');
    expect(m).toMatchObject({ topic: 'r/1', retain: true, qos: 1 });
    expect(m?.payload.toString()).toBe('kept');
    // Live delivery of a retained publish to an existing subscriber: RETAIN 0 in 3.1.1 [MQTT-3.3.1-9].
    pub.send({ cmd: 'publish', topic: 'r/1', payload: Buffer.from(''), qos: 0, retain: true, dup: false });
    await settle();
    expect(sub.take('publish')[0]?.retain).toBe(false);
    expect(r.store.retained.count(HOST)).toBe(0);
  });

  it('unsubscribes', async () => {
    const r = rig();
    const sub = r.client(5);
    await sub.connect({}, 'sub');
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't', qos: 0 }] });
    sub.send({ cmd: 'unsubscribe', messageId: 2, unsubscriptions: ['t', 'never'] });
    await settle();
    expect(sub.take('unsuback')[0]?.granted).toEqual([0x00, 0x11]);
    const pub = r.client(4);
    await pub.connect({}, 'pub');
    pub.send({ cmd: 'publish', topic: 't', payload: Buffer.from('x'), qos: 0, retain: false, dup: false });
    await settle();
    expect(sub.take('publish')).toHaveLength(0);
  });

  it('honours the inflight window: the rest waits until acks free slots', async () => {
    const r = rig({ mqtt: { max_inflight: 2 } });
    const sub = r.client(4);
    await sub.connect({}, 'sub');
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't', qos: 1 }] });
    const pub = r.client(4);
    await pub.connect({}, 'pub');
    for (let i = 1; i <= 5; i++) pub.send({ cmd: 'publish', topic: 't', payload: Buffer.from(String(i)), qos: 1, messageId: i, retain: false, dup: false });
    await settle();
    let got = sub.take('publish');
    expect(got.map((p) => p.payload.toString())).toEqual(['1', '2']);
    sub.send({ cmd: 'puback', messageId: got[0]!.messageId! });
    await settle();
    got = sub.take('publish');
    expect(got.map((p) => p.payload.toString())).toEqual(['3']);
  });
});

describe('slow readers', () => {
  it('drops QoS 0 messages to a client whose socket buffer is over max_send_buffer', async () => {
    const r = rig({ mqtt: { max_send_buffer: 65_536 } });
    const sub = r.client(4);
    await sub.connect({}, 'slow');
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't', qos: 0 }] });
    await settle();
    sub.pause();
    const pub = r.client(4);
    await pub.connect({}, 'pub');
    for (let i = 0; i < 200; i++) pub.send({ cmd: 'publish', topic: 't', payload: Buffer.alloc(10_000), qos: 0, retain: false, dup: false });
    await settle(10);
    const dropped = await r.deps.metrics.registry.getSingleMetricAsString('vigil_mqtt_messages_dropped_total');
    expect(Number(/ (\d+)$/m.exec(dropped)?.[1])).toBeGreaterThan(0);
  });
});

describe('metrics', () => {
  it('counts messages in and out, connects and auth failures', async () => {
    const r = rig({ mqtt: { allow_anonymous: false } });
    r.addUser(HOST, 'u', 'p');
    const creds = { username: 'u', password: Buffer.from('p') };
    const sub = r.client(4);
    await sub.connect(creds, 'sub');
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't', qos: 0 }] });
    const pub = r.client(4);
    await pub.connect(creds, 'pub');
    pub.send({ cmd: 'publish', topic: 't', payload: Buffer.from('x'), qos: 0, retain: false, dup: false });
    await r.client(4).connect({}, 'anon');
    await settle();
    const text = await r.deps.metrics.registry.metrics();
    const value = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
    expect(value('vigil_mqtt_messages_received_total')).toBe(1);
    expect(value('vigil_mqtt_messages_sent_total')).toBe(1);
    expect(value('vigil_mqtt_connects_total')).toBe(2);
    expect(value('vigil_mqtt_auth_failures_total')).toBe(1);
  });
});
