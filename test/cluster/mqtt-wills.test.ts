/**
 * Wills across nodes (issue 16): a will is published once, to subscribers on every node; a delayed
 * will is cancelled by a reconnect to another node; the wills of a node killed with SIGKILL are
 * published once by the survivors after its lease, each after its own delay.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnVigil, whenStarted } from '../support/spawn-vigil.js';
import { type ClusterRig, clusterYaml, mqttConnect, startCluster, until } from './rig.js';
import { collect, nodeId, nodeRouted } from './mqtt-rig.js';

const LEASE_MS = 1_500;
let c: ClusterRig;
let child: ChildProcess | null = null;
let dir = '';
const clients: MqttClient[] = [];
const connect = async (i: number, opts: Parameters<typeof mqttConnect>[1] = {}) => {
  const cl = await mqttConnect(c.nodes[i]!, opts);
  clients.push(cl);
  return cl;
};

beforeAll(async () => {
  c = await startCluster(2, { leaseMs: LEASE_MS });
}, 30_000);
afterAll(async () => {
  for (const cl of clients) cl.end(true);
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await c?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const will = (topic: string, payload: string, delay = 0) => ({
  protocolVersion: 5 as const,
  properties: { sessionExpiryInterval: 60 },
  will: { topic, payload: Buffer.from(payload), qos: 1 as const, retain: false, properties: { willDelayInterval: delay } },
});

it('a will is published once, to subscribers on other nodes; a reconnect elsewhere cancels a delayed one', async () => {
  const sub = await connect(1, { clientId: 'will-watch' });
  const got = collect(sub);
  await sub.subscribeAsync('gone/#', { qos: 1 });
  await nodeRouted(c.nodes, 'gone/x', nodeId(c.nodes[1]!));
  const now = await connect(0, { clientId: 'dies-now', ...will('gone/now', 'bye') });
  const later = await connect(0, { clientId: 'dies-later', ...will('gone/later', 'bye later', 1) });
  now.stream.destroy(); // no DISCONNECT: the will is due [MQTT-3.1.2-8]
  later.stream.destroy();
  await until(() => got.payloads().includes('bye'), 5_000, 'will published');
  // Back on the other node within the Will Delay Interval: no will (5.0 §3.1.3.2.2).
  await connect(1, { clientId: 'dies-later', clean: false, ...will('gone/later', 'second', 60) });
  await new Promise((r) => setTimeout(r, 1_600));
  expect(got.payloads()).toEqual(['bye']);
});

it('kill -9: the wills of the dead node are published once by the survivors, after their delays', async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-wills-'));
  writeFileSync(join(dir, 'vigil.yaml'), clusterYaml({ dir: join(dir, 'data'), redisUrl: c.redis.url, nodeId: 'n3', leaseMs: LEASE_MS }).replace('log: {level: silent}', 'log: {level: info}'));
  child = spawnVigil(['serve', '--config', join(dir, 'vigil.yaml')], dir);
  const addr = await whenStarted(child).started;
  const sub0 = await connect(0, { clientId: 'dead-watch-0' });
  const sub1 = await connect(1, { clientId: 'dead-watch-1' });
  const got = [collect(sub0), collect(sub1)];
  await sub0.subscribeAsync('dead/#', { qos: 1 });
  await sub1.subscribeAsync('dead/#', { qos: 1 });
  await nodeRouted(c.nodes, 'dead/x', nodeId(c.nodes[0]!));
  await nodeRouted(c.nodes, 'dead/x', nodeId(c.nodes[1]!));
  const ids = Array.from({ length: 10 }, (_, i) => `dying-${i}`);
  for (const [i, id] of ids.entries()) {
    const cl = mqtt.connect({ host: '127.0.0.1', port: addr.mqtt.port, clientId: id, reconnectPeriod: 0, ...will(`dead/${id}`, id, i % 2) });
    cl.on('error', () => undefined);
    clients.push(cl);
    await new Promise((r) => cl.once('connect', r));
  }
  const t0 = Date.now();
  child.kill('SIGKILL');
  await until(() => got.every((g) => g.got.length >= ids.length), 10_000, 'every will on both nodes');
  const took = Date.now() - t0;
  expect(took).toBeGreaterThan(LEASE_MS - 500); // not before the lease ran out
  await new Promise((r) => setTimeout(r, 500));
  for (const g of got) expect(g.payloads().sort()).toEqual([...ids].sort());
  const published = c.nodes.map((a) => a.deps.cluster!.mqtt.maintenance.stats.due);
  expect(published.reduce((x, y) => x + y, 0)).toBeGreaterThanOrEqual(ids.length);
}, 60_000);
