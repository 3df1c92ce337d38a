/**
 * MQTT across three nodes on one redis-server (issue 16), real mqtt.js clients: QoS 0/1/2 both
 * ways between nodes, wildcards, order per publisher, a message reaching only the nodes whose
 * routes match, retained messages set on one node and read on another.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ClusterRig, mqttConnect, startCluster, until } from './rig.js';
import { collect, nodeId, nodeRouted, retainedIndexed } from './mqtt-rig.js';

let c: ClusterRig;
const clients: MqttClient[] = [];
const connect = async (i: number, opts: Parameters<typeof mqttConnect>[1] = {}) => {
  const cl = await mqttConnect(c.nodes[i]!, opts);
  clients.push(cl);
  return cl;
};

beforeAll(async () => {
  c = await startCluster(3, { leaseMs: 3_000 });
}, 30_000);
afterAll(async () => {
  for (const cl of clients) cl.end(true);
  await c?.stop();
});

it('QoS 0, 1 and 2 cross nodes both ways, in order, at the granted QoS', async () => {
  const a = await connect(0, { clientId: 'route-a' });
  const b = await connect(1, { clientId: 'route-b', protocolVersion: 5 });
  const inA = collect(a);
  const inB = collect(b);
  await b.subscribeAsync('to/b', { qos: 2 });
  await a.subscribeAsync('to/a', { qos: 1 });
  await nodeRouted(c.nodes, 'to/b', nodeId(c.nodes[1]!));
  await nodeRouted(c.nodes, 'to/a', nodeId(c.nodes[0]!));
  for (let i = 0; i < 30; i++) await a.publishAsync('to/b', `m${i}`, { qos: (i % 3) as 0 | 1 | 2 });
  for (let i = 0; i < 30; i++) await b.publishAsync('to/a', `n${i}`, { qos: (i % 3) as 0 | 1 | 2 });
  await until(() => inB.got.length === 30 && inA.got.length === 30, 10_000, 'all delivered');
  expect(inB.payloads('to/b')).toEqual(Array.from({ length: 30 }, (_, i) => `m${i}`));
  expect(inA.payloads('to/a')).toEqual(Array.from({ length: 30 }, (_, i) => `n${i}`));
  expect(inB.got.map((m) => m.qos)).toEqual(Array.from({ length: 30 }, (_, i) => i % 3));
  expect(inA.got.map((m) => m.qos)).toEqual(Array.from({ length: 30 }, (_, i) => Math.min(i % 3, 1)));
});

it('wildcards match across nodes; a node without a matching route gets nothing', async () => {
  const sub = await connect(2, { clientId: 'wild-sub' });
  const got = collect(sub);
  await sub.subscribeAsync(['w/+/temp', 'w/#'], { qos: 1 });
  await nodeRouted(c.nodes, 'w/x/temp', nodeId(c.nodes[2]!));
  const before = c.nodes[1]!.deps.cluster!.mqtt.batcher.stats.batches;
  const inbox1 = c.nodes[1]!.deps.cluster!.mqtt.reads;
  const pub = await connect(0, { clientId: 'wild-pub' });
  await pub.publishAsync('w/room1/temp', '21', { qos: 1 });
  await pub.publishAsync('w/room1/hum', '40', { qos: 1 });
  await until(() => got.got.length === 2, 10_000, 'wildcard deliveries');
  // One delivery per message even with two matching filters [MQTT-3.3.4-2].
  expect(got.got.map((m) => `${m.topic}=${m.payload}`)).toEqual(['w/room1/temp=21', 'w/room1/hum=40']);
  // Node 2 (no subscriber) read nothing for these: no broadcast.
  expect(c.nodes[1]!.deps.cluster!.mqtt.reads).toBe(inbox1);
  expect(c.nodes[1]!.deps.cluster!.mqtt.batcher.stats.batches).toBe(before);
});

it('a retained message set on one node is read on another, through a wildcard too', async () => {
  const pub = await connect(0, { clientId: 'ret-pub' });
  await pub.publishAsync('ret/a/b', 'kept', { qos: 1, retain: true });
  await retainedIndexed(c.nodes, 'ret/a/b');
  const sub = await connect(1, { clientId: 'ret-sub' });
  const got = collect(sub);
  await sub.subscribeAsync('ret/+/b', { qos: 1 });
  await sub.subscribeAsync('ret/a/b', { qos: 0 });
  await until(() => got.got.length === 2, 10_000, 'retained delivered');
  expect(got.got.every((m) => m.payload === 'kept' && m.retain)).toBe(true);
  // Cleared on a third node: the index loses it everywhere.
  const clr = await connect(2, { clientId: 'ret-clr' });
  await clr.publishAsync('ret/a/b', '', { qos: 1, retain: true });
  await until(() => c.nodes.every((a) => a.deps.cluster!.mqtt.routes.host('example.org').retained.size === 0), 10_000, 'retained cleared');
});

it('a shared subscription gets messages published on other nodes, one member per node (picked per node)', async () => {
  // Two members on node 1, one on node 2; the publisher on node 0.
  const m1 = await connect(1, { clientId: 'share-1a', protocolVersion: 5 });
  const m2 = await connect(1, { clientId: 'share-1b', protocolVersion: 5 });
  const m3 = await connect(2, { clientId: 'share-2a', protocolVersion: 5 });
  const got = [collect(m1), collect(m2), collect(m3)];
  for (const m of [m1, m2, m3]) await m.subscribeAsync('$share/g/sh/t', { qos: 1 });
  // The node route is the bare filter: node 0 forwards to both member nodes.
  await nodeRouted(c.nodes, 'sh/t', nodeId(c.nodes[1]!));
  await nodeRouted(c.nodes, 'sh/t', nodeId(c.nodes[2]!));
  const pub = await connect(0, { clientId: 'share-pub' });
  for (let i = 0; i < 10; i++) await pub.publishAsync('sh/t', `s${i}`, { qos: 1 });
  await until(() => got[0]!.got.length + got[1]!.got.length === 10 && got[2]!.got.length === 10, 10_000, 'shared deliveries');
  // Node 1 handed each message to one of its two members (round_robin: both got some).
  expect(got[0]!.got.length).toBeGreaterThan(0);
  expect(got[1]!.got.length).toBeGreaterThan(0);
  expect([...got[0]!.payloads('sh/t'), ...got[1]!.payloads('sh/t')].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `s${i}`).sort());
});
