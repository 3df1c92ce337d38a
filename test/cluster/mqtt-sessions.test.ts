/**
 * Persistent MQTT sessions across nodes (issue 16): a session's queue follows its client to another
 * node in order; a takeover across nodes of a client with QoS 2 in flight, both directions, keeps
 * exactly once (the new node resends with DUP and the same ids, PUBREL for released ones, and knows
 * the inbound ids awaiting PUBREL); the acknowledgement waits for Redis.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { IPublishPacket, IPubrecPacket } from 'mqtt-packet';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ClusterRig, HOST, mqttConnect, port, startCluster, until } from './rig.js';
import { brokerOf, collect, nodeId, nodeRouted, redisCall, sessionRouted } from './mqtt-rig.js';
import { rawConnect } from './raw-mqtt.js';

let c: ClusterRig;
const clients: MqttClient[] = [];
const connect = async (i: number, opts: Parameters<typeof mqttConnect>[1] = {}) => {
  const cl = await mqttConnect(c.nodes[i]!, opts);
  clients.push(cl);
  return cl;
};
const figures = (i: number, id: string) => brokerOf(c.nodes[i]!).sessions.figures(HOST, id);

beforeAll(async () => {
  c = await startCluster(3, { leaseMs: 3_000 });
}, 30_000);
afterAll(async () => {
  for (const cl of clients) cl.end(true);
  await c?.stop();
});

it('a persistent session moves to another node with its queue, in order', async () => {
  const sub = await connect(0, { clientId: 'mover', clean: false });
  await sub.subscribeAsync('mv/#', { qos: 1 });
  await sessionRouted(c.nodes, 'mv/x', 'mover');
  await sub.endAsync();
  const pub = await connect(1, { clientId: 'mv-pub' });
  for (let i = 0; i < 200; i++) await pub.publishAsync('mv/x', `q${i}`, { qos: (i % 2) as 0 | 1 });
  const back = mqtt.connect({ host: '127.0.0.1', port: port(c.nodes[2]!, 'mqtt'), clientId: 'mover', clean: false, reconnectPeriod: 0 });
  clients.push(back);
  const got = collect(back); // before CONNACK: the queue follows it at once
  const present = await new Promise<boolean>((r) => back.once('connect', (ack) => r(ack.sessionPresent)));
  expect(present).toBe(true);
  await until(() => got.got.length === 200, 10_000, '200 queued messages');
  expect(got.payloads()).toEqual(Array.from({ length: 200 }, (_, i) => `q${i}`));
  // Live delivery on the new node, through its queue stream, in order after the queue.
  await pub.publishAsync('mv/x', 'live', { qos: 1 });
  await until(() => got.got.length === 201, 5_000, 'live message');
  expect(got.got[200]!.payload).toBe('live');
  await until(() => figures(2, 'mover')?.inflight === 0, 5_000, 'last PUBACK');
  expect(figures(2, 'mover')).toMatchObject({ connected: true, persistent: true, subscriptions: 1, queued: 0 });
  expect(await redisCall(c.redis.url, ['XLEN', `{vigil}:mq:${HOST}|mover`])).toBe(0);
  expect(await redisCall(c.redis.url, ['HLEN', `{vigil}:minf:${HOST}|mover`])).toBe(0);
  expect(figures(0, 'mover')).toBeUndefined(); // left node 1's memory
});

it('takeover across nodes with outbound QoS 2 in flight: resent with DUP and the same id, PUBREL after PUBREC', async () => {
  const v5 = { clientId: 'q2-sub', clean: false, protocolVersion: 5 as const, properties: { sessionExpiryInterval: 3600 } };
  const a = await rawConnect(port(c.nodes[0]!, 'mqtt'), v5);
  a.client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'q2/#', qos: 2 }] });
  await a.client.next('suback');
  await nodeRouted(c.nodes, 'q2/x', nodeId(c.nodes[0]!));
  const pub = await connect(1, { clientId: 'q2-pub' });
  await pub.publishAsync('q2/x', 'one', { qos: 2 });
  await pub.publishAsync('q2/x', 'two', { qos: 2 });
  const p1 = (await a.client.next('publish')) as IPublishPacket;
  const p2 = (await a.client.next('publish')) as IPublishPacket;
  // 'one': PUBREC sent and PUBREL received, PUBCOMP withheld; 'two': no PUBREC at all.
  a.client.send({ cmd: 'pubrec', messageId: p1.messageId! });
  await a.client.next('pubrel'); // sent once its phase was in Redis
  const b = await rawConnect(port(c.nodes[2]!, 'mqtt'), v5);
  expect(b.connack).toMatchObject({ sessionPresent: true });
  await a.client.closed; // node 1 closed the taken-over connection (v5 0x8E)
  const rel = await b.client.next('pubrel');
  expect(rel).toMatchObject({ messageId: p1.messageId });
  const again = (await b.client.next('publish')) as IPublishPacket;
  expect(again).toMatchObject({ messageId: p2.messageId, dup: true, qos: 2 });
  expect(String(again.payload)).toBe('two');
  b.client.send({ cmd: 'pubcomp', messageId: p1.messageId! });
  b.client.send({ cmd: 'pubrec', messageId: p2.messageId! });
  await b.client.next('pubrel');
  b.client.send({ cmd: 'pubcomp', messageId: p2.messageId! });
  await until(() => figures(2, 'q2-sub')?.inflight === 0, 5_000, 'flows done');
  b.client.close();
});

it('takeover across nodes with inbound QoS 2 awaiting PUBREL: routed once, PUBCOMP on the new node', async () => {
  const sub = await connect(1, { clientId: 'in2-sub' });
  const got = collect(sub);
  await sub.subscribeAsync('in2/#', { qos: 2 });
  await nodeRouted(c.nodes, 'in2/x', nodeId(c.nodes[1]!));
  const v3 = { clientId: 'in2-pub', clean: false, protocolVersion: 4 as const };
  const a = await rawConnect(port(c.nodes[0]!, 'mqtt'), v3);
  a.client.send({ cmd: 'publish', topic: 'in2/x', payload: Buffer.from('once'), qos: 2, messageId: 7, retain: false, dup: false });
  const rec = (await a.client.next('pubrec')) as IPubrecPacket;
  expect(rec.messageId).toBe(7);
  const b = await rawConnect(port(c.nodes[2]!, 'mqtt'), v3);
  expect(b.connack).toMatchObject({ sessionPresent: true });
  // The client did not see PUBREC in its mind: it sends the PUBLISH again (DUP), then PUBREL.
  b.client.send({ cmd: 'publish', topic: 'in2/x', payload: Buffer.from('once'), qos: 2, messageId: 7, retain: false, dup: true });
  expect(((await b.client.next('pubrec')) as IPubrecPacket).messageId).toBe(7);
  b.client.send({ cmd: 'pubrel', messageId: 7 });
  expect(await b.client.next('pubcomp')).toMatchObject({ messageId: 7 });
  await until(() => got.got.length >= 1, 5_000, 'delivered');
  await new Promise((r) => setTimeout(r, 200));
  expect(got.payloads()).toEqual(['once']);
  a.client.close();
  b.client.close();
});

it('PUBACK waits for Redis: a publish acknowledged is in the offline session queue', async () => {
  const sub = await connect(2, { clientId: 'ack-sub', clean: false });
  await sub.subscribeAsync('ack/#', { qos: 1 });
  await sessionRouted(c.nodes, 'ack/x', 'ack-sub');
  await sub.endAsync();
  const pub = await connect(0, { clientId: 'ack-pub' });
  const link = c.nodes[0]!.deps.cluster!;
  const before = link.mqtt.batcher.stats.batches;
  await pub.publishAsync('ack/x', 'safe', { qos: 1 });
  expect(link.mqtt.batcher.stats.batches).toBeGreaterThan(before);
  expect(await redisCall(c.redis.url, ['XLEN', `{vigil}:mq:${HOST}|ack-sub`])).toBe(1);
});
