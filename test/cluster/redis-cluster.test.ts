/**
 * The same engine on a Redis Cluster of three masters (`cluster.redis.nodes`): every script runs on
 * the one `{vigil}` slot, the feed reader's XREAD BLOCK and the inbox work through the cluster
 * client. Two nodes share presence, a takeover across them closes the old connection, GET
 * /v1/cluster lists both. (The rest of test/cluster/ runs on a single Redis, the default.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type App, createApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { type RedisCluster, startRedisCluster } from '../support/redis-cluster.js';
import { HOST, clusterYaml, mqttConnect, until } from './rig.js';

let rc: RedisCluster;
const apps: App[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  rc = await startRedisCluster();
  for (const id of ['a', 'b']) {
    const dir = mkdtempSync(join(tmpdir(), `vigil-rc-${id}-`));
    dirs.push(dir);
    const yaml = clusterYaml({ dir, redisUrl: 'unused', nodeId: id, leaseMs: 1_500 }).replace('{url: "unused"}', `{nodes: [${rc.nodes.map((n) => `"${n}"`).join(', ')}]}`);
    const app = createApp({ loaded: parseConfig(yaml, join(dir, 'vigil.yaml')), store: createMemoryStore(), processMetrics: false, logger: pino({ level: 'silent' }) });
    await app.start();
    apps.push(app);
  }
}, 60_000);
afterAll(async () => {
  for (const a of apps) await a.stop();
  await rc?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

it('Redis Cluster: shared presence and a takeover across two nodes', async () => {
  const first = await mqttConnect(apps[0]!, { clientId: 'rc-1', protocolVersion: 5 });
  await until(() => apps[1]!.deps.presence.get({ host: HOST, transport: 'mqtt', id: 'rc-1' })?.state === 'online', 10_000, 'node b sees rc-1');
  const closed = new Promise<void>((r) => first.once('close', () => r()));
  const second = await mqttConnect(apps[1]!, { clientId: 'rc-1', protocolVersion: 5 });
  await closed;
  await until(() => apps[0]!.deps.presence.get({ host: HOST, transport: 'mqtt', id: 'rc-1' })?.node === 'b', 10_000, 'node a sees the takeover');
  second.end(true);
  expect((await apps[0]!.deps.cluster!.nodes()).map((n) => n.node)).toEqual(['a', 'b']);
});
