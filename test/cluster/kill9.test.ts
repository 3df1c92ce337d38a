/**
 * kill -9 of a spawned Vigil node: the survivors find its lease run out and one of them sweeps it;
 * each of its endpoints goes offline with reason node_down within the lease (1.5 s here, plus the
 * sweep's round trips), exactly once each in the change feed, and the node leaves GET /v1/cluster.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { ChangeEntry } from '../../src/presence/types.js';
import { spawnVigil, whenStarted } from '../support/spawn-vigil.js';
import { type ClusterRig, HOST, api, clusterYaml, json, startCluster, until } from './rig.js';
import mqtt from 'mqtt';

const LEASE_MS = 1_500;
let c: ClusterRig;
let child: ChildProcess | null = null;
let dir = '';
const clients: MqttClient[] = [];

beforeAll(async () => {
  c = await startCluster(2, { leaseMs: LEASE_MS });
}, 30_000);
afterAll(async () => {
  for (const cl of clients) cl.end(true);
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await c?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const online = (app: App, id: string) => app.deps.presence.get({ host: HOST, transport: 'mqtt', id })?.state === 'online';

it('kill -9: endpoints of the dead node go offline with node_down within the lease, once each', async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-kill9-'));
  const yaml = clusterYaml({ dir: join(dir, 'data'), redisUrl: c.redis.url, nodeId: 'n3', leaseMs: LEASE_MS }).replace('log: {level: silent}', 'log: {level: info}');
  writeFileSync(join(dir, 'vigil.yaml'), yaml);
  child = spawnVigil(['serve', '--config', join(dir, 'vigil.yaml')], dir);
  const addr = await whenStarted(child).started;
  const ids = Array.from({ length: 20 }, (_, i) => `k9-${i}`);
  for (const id of ids) {
    const cl = mqtt.connect({ host: '127.0.0.1', port: addr.mqtt.port, clientId: id, reconnectPeriod: 0 });
    cl.on('error', () => undefined);
    clients.push(cl);
  }
  await until(() => ids.every((id) => online(c.nodes[0]!, id) && online(c.nodes[1]!, id)), 10_000, 'all online everywhere');
  expect(c.nodes[0]!.deps.presence.get({ host: HOST, transport: 'mqtt', id: 'k9-0' })!.node).toBe('n3');
  const after = c.nodes[0]!.deps.presence.lastSeq();
  const t0 = Date.now();
  child.kill('SIGKILL');
  await until(() => ids.every((id) => !online(c.nodes[0]!, id) && !online(c.nodes[1]!, id)), 10_000, 'all offline everywhere');
  const took = Date.now() - t0;
  expect(took).toBeLessThan(LEASE_MS + 500);
  for (const app of c.nodes) {
    for (const id of ids) expect(app.deps.presence.get({ host: HOST, transport: 'mqtt', id })!.last_disconnect_reason).toBe('node_down');
  }
  const res = await api(c.nodes[1]!, `/events?after=${after}&limit=1000`, { headers: { accept: 'application/json' } });
  const body = await res.text();
  expect(res.status, body).toBe(200);
  const feed = JSON.parse(body) as { entries: ChangeEntry[] };
  const downs = feed.entries.filter((e) => e.kind === 'offline' && e.reason === 'node_down');
  expect(downs.map((e) => e.id).sort()).toEqual([...ids].sort());
  // Exactly one survivor swept it (the claim).
  const swept = c.nodes.map((a) => a.deps.cluster!.membership.swept);
  expect(swept.sort()).toEqual([0, 20]);
  await until(async () => (await json<{ nodes: { node: string }[] }>(api(c.nodes[0]!, '/cluster'))).nodes.length === 2, 5_000, 'n3 left the node list');
  const sweeper = c.nodes.find((a) => a.deps.cluster!.membership.swept === 20)!;
  const metrics = await (await fetch(`http://127.0.0.1:${sweeper.addresses().http!.port}/metrics`)).text();
  expect(metrics).toMatch(/vigil_cluster_events_total\{event="swept"\} 20/);
}, 60_000);
