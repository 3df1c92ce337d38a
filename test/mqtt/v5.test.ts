import { describe, expect, it } from 'vitest';
import { rig, settle } from './harness.js';

const publish = (topic: string, payload: string, extra: Record<string, unknown> = {}) =>
  ({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 0, retain: false, dup: false, ...extra }) as const;

describe('MQTT 5 features', () => {
  it('CONNACK announces limits: Maximum Packet Size, Topic Alias Maximum; shared subscriptions available (absent = 1)', async () => {
    const r = rig({ mqtt: { max_packet_size: 4096, max_topic_alias: 10 } });
    const [ack] = await r.client(5).connect();
    expect(ack?.properties).toMatchObject({ maximumPacketSize: 4096, topicAliasMaximum: 10 });
    expect(ack?.properties?.sharedSubscriptionAvailable).toBeUndefined();
  });

  it('topic aliases from the client: set, reuse, invalid alias -> DISCONNECT 0x94', async () => {
    const r = rig({ mqtt: { max_topic_alias: 5 } });
    const sub = r.client(5);
    await sub.connect({}, 'sub');
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'long/topic/name', qos: 0 }] });
    const pub = r.client(5);
    await pub.connect({}, 'pub');
    pub.send(publish('long/topic/name', 'one', { properties: { topicAlias: 3 } }));
    pub.send(publish('', 'two', { properties: { topicAlias: 3 } }));
    await settle();
    expect(sub.take('publish').map((p) => [p.topic, p.payload.toString(), p.properties?.topicAlias])).toEqual([
      ['long/topic/name', 'one', undefined],
      ['long/topic/name', 'two', undefined],
    ]);
    pub.send(publish('x', 'bad', { properties: { topicAlias: 6 } }));
    await settle();
    expect(pub.take('disconnect')[0]?.reasonCode).toBe(0x94);
    expect(pub.closed).toBe(true);
  });

  it('no local, retain as published, subscription identifiers', async () => {
    const r = rig();
    const c = r.client(5);
    await c.connect({}, 'me');
    c.send({
      cmd: 'subscribe',
      messageId: 1,
      properties: { subscriptionIdentifier: 9 },
      subscriptions: [
        { topic: 'nl/#', qos: 0, nl: true },
        { topic: 'rap/#', qos: 0, rap: true },
      ],
    });
    await settle();
    c.send(publish('nl/x', 'mine'));
    c.send(publish('rap/x', 'kept', { retain: true }));
    await settle();
    const got = c.take('publish');
    expect(got.map((p) => [p.topic, p.retain, p.properties?.subscriptionIdentifier])).toEqual([['rap/x', true, 9]]);
  });

  it('retain handling: 0 always, 1 only for a new subscription, 2 never', async () => {
    const r = rig();
    const pub = r.client(4);
    await pub.connect({}, 'pub');
    pub.send(publish('ret/a', 'r', { retain: true }));
    const c = r.client(5);
    await c.connect({}, 'c');
    const sub = (rh: number, id: number) => c.send({ cmd: 'subscribe', messageId: id, subscriptions: [{ topic: 'ret/#', qos: 0, rh }] });
    sub(1, 1);
    await settle();
    expect(c.take('publish')).toHaveLength(1);
    sub(1, 2);
    await settle();
    expect(c.take('publish')).toHaveLength(0);
    sub(0, 3);
    await settle();
    expect(c.take('publish')).toHaveLength(1);
    sub(2, 4);
    await settle();
    expect(c.take('publish')).toHaveLength(0);
  });

  it('message expiry: remaining interval forwarded, expired retained messages not delivered', async () => {
    const r = rig();
    const pub = r.client(5);
    await pub.connect({}, 'pub');
    pub.send(publish('exp/a', 'soon', { retain: true, properties: { messageExpiryInterval: 10 } }));
    await settle();
    await r.advance(4_000);
    const a = r.client(5);
    await a.connect({ keepalive: 0 }, 'a');
    a.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'exp/#', qos: 0 }] });
    await settle();
    expect(a.take('publish')[0]?.properties?.messageExpiryInterval).toBe(6);
    await r.advance(7_000);
    const b = r.client(5);
    await b.connect({ keepalive: 0 }, 'b');
    b.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'exp/#', qos: 0 }] });
    await settle();
    expect(b.take('publish')).toHaveLength(0);
  });

  it('user properties, content type and correlation data pass through; v3 subscribers get none', async () => {
    const r = rig();
    const s5 = r.client(5);
    await s5.connect({}, 's5');
    s5.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'p', qos: 1 }] });
    const s3 = r.client(4);
    await s3.connect({}, 's3');
    s3.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'p', qos: 1 }] });
    const pub = r.client(5);
    await pub.connect({}, 'pub');
    const properties = { userProperties: { a: 'b' }, contentType: 'x/y', correlationData: Buffer.from('id'), responseTopic: 'reply' };
    pub.send(publish('p', 'v', { qos: 1, messageId: 1, properties }));
    await settle();
    expect(s5.take('publish')[0]?.properties).toMatchObject(properties);
    expect(s3.take('publish')[0]?.payload.toString()).toBe('v');
  });

  it('Receive Maximum of the client bounds the inflight window', async () => {
    const r = rig();
    const sub = r.client(5);
    await sub.connect({ properties: { receiveMaximum: 1 } }, 'sub');
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't', qos: 1 }] });
    const pub = r.client(4);
    await pub.connect({}, 'pub');
    pub.send(publish('t', '1', { qos: 1, messageId: 1 }));
    pub.send(publish('t', '2', { qos: 1, messageId: 2 }));
    await settle();
    const [first, ...rest] = sub.take('publish');
    expect(rest).toHaveLength(0);
    sub.send({ cmd: 'puback', messageId: first!.messageId! });
    await settle();
    expect(sub.take('publish').map((p) => p.payload.toString())).toEqual(['2']);
  });

  it('shared subscriptions are granted, invalid filters get 0x8F', async () => {
    const r = rig();
    const c = r.client(5);
    await c.connect();
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$share/g/t', qos: 0 }, { topic: 'a/#/b', qos: 0 }, { topic: 'ok', qos: 2 }] });
    await settle();
    expect(c.take('suback')[0]?.granted).toEqual([0, 0x8f, 2]);
  });

  it('DISCONNECT 0x04 publishes the will', async () => {
    const r = rig();
    const sub = r.client(4);
    await sub.connect({}, 'sub');
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'w', qos: 0 }] });
    const c = r.client(5);
    await c.connect({ will: { topic: 'w', payload: Buffer.from('asked'), qos: 0, retain: false } });
    c.send({ cmd: 'disconnect', reasonCode: 0x04 });
    await settle();
    expect(sub.take('publish').map((p) => p.payload.toString())).toEqual(['asked']);
  });
});

describe('MQTT 5 refusals', () => {
  it('enhanced authentication is refused with 0x8C', async () => {
    const r = rig();
    const [ack] = await r.client(5).connect({ properties: { authenticationMethod: 'SCRAM-SHA-1' } });
    expect(ack?.reasonCode).toBe(0x8c);
  });

  it('a Subscription Identifier in a client PUBLISH is a protocol error [MQTT-3.3.4-6]', async () => {
    const r = rig();
    const c = r.client(5);
    await c.connect();
    c.send(publish('t', 'x', { properties: { subscriptionIdentifier: 3 } }));
    await settle();
    expect(c.take('disconnect')[0]?.reasonCode).toBe(0x82);
  });

  it('QoS 0 with DUP set is malformed [MQTT-3.3.1-2]', async () => {
    const r = rig();
    const c = r.client(5);
    await c.connect();
    c.send(publish('t', 'x', { dup: true }));
    await settle();
    expect(c.take('disconnect')[0]?.reasonCode).toBe(0x81);
  });
});
