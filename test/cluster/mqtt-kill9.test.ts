/**
 * A persistent session whose node dies (issue 16): kill -9 of the node holding a subscriber with
 * QoS 1 messages in flight (not acknowledged) and queued; the client reconnects to a survivor,
 * which resumes the session from Redis: the inflight ones resent with DUP and their ids, then the
 * queue, every acknowledged message once, in order.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IPublishPacket } from 'mqtt-packet';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnVigil, whenStarted } from '../support/spawn-vigil.js';
import { type ClusterRig, clusterYaml, mqttConnect, port, startCluster } from './rig.js';
import { sessionRouted } from './mqtt-rig.js';
import { rawConnect } from './raw-mqtt.js';

const LEASE_MS = 1_500;
let c: ClusterRig;
let child: ChildProcess | null = null;
let dir = '';
const clients: MqttClient[] = [];

beforeAll(async () => {
  c = await startCluster(1, { leaseMs: LEASE_MS });
}, 30_000);
afterAll(async () => {
  for (const cl of clients) cl.end(true);
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await c?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('kill -9 of the node holding a session: inflight and queued messages resume on a survivor', async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-mkill-'));
  writeFileSync(join(dir, 'vigil.yaml'), clusterYaml({ dir: join(dir, 'data'), redisUrl: c.redis.url, nodeId: 'nk', leaseMs: LEASE_MS }).replace('log: {level: silent}', 'log: {level: info}'));
  child = spawnVigil(['serve', '--config', join(dir, 'vigil.yaml')], dir);
  const addr = await whenStarted(child).started;
  const sub = await rawConnect(addr.mqtt.port, { clientId: 'k9-sub', clean: false });
  sub.client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'k9/#', qos: 1 }] });
  await sub.client.next('suback');
  await sessionRouted(c.nodes, 'k9/x', 'k9-sub');
  const pub = await mqttConnect(c.nodes[0]!, { clientId: 'k9-pub' });
  clients.push(pub);
  for (let i = 0; i < 40; i++) await pub.publishAsync('k9/x', `m${i}`, { qos: 1 });
  const first: IPublishPacket[] = [];
  for (let i = 0; i < 16; i++) first.push((await sub.client.next('publish')) as IPublishPacket);
  expect(first.map((p) => String(p.payload))).toEqual(Array.from({ length: 16 }, (_, i) => `m${i}`));
  // Four acknowledged: four queued ones move into the window (queue -> inflight in Redis too).
  for (const p of first.slice(0, 4)) sub.client.send({ cmd: 'puback', messageId: p.messageId! });
  for (let i = 0; i < 4; i++) first.push((await sub.client.next('publish')) as IPublishPacket);
  expect(first.slice(16).map((p) => String(p.payload))).toEqual(['m16', 'm17', 'm18', 'm19']);
  await new Promise((r) => setTimeout(r, 100)); // their inflight writes reach Redis (batches are ms apart)
  child.kill('SIGKILL');
  await sub.client.closed;
  const back = await rawConnect(port(c.nodes[0]!, 'mqtt'), { clientId: 'k9-sub', clean: false });
  expect(back.connack).toMatchObject({ sessionPresent: true });
  const got: IPublishPacket[] = [];
  for (let i = 4; i < 40; i++) {
    const p = (await back.client.next('publish', 5_000)) as IPublishPacket;
    got.push(p);
    back.client.send({ cmd: 'puback', messageId: p.messageId! });
  }
  expect(got.map((p) => String(p.payload))).toEqual(Array.from({ length: 36 }, (_, i) => `m${i + 4}`));
  expect(got.slice(0, 16).map((p) => [p.messageId, p.dup])).toEqual(first.slice(4).map((p) => [p.messageId, true]));
  back.client.close();
}, 60_000);
