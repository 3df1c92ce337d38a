/**
 * Cluster test rig: one private redis-server and N Vigil apps (as composed by app.ts) in this
 * process, each with its own listeners on port 0 and `cluster.redis.url` pointing at the server.
 * Real clients (mqtt.js, @xmpp/client) connect to the nodes' sockets; REST goes over real HTTP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { type App, createApp } from '../../src/app.js';
import type { RedisLink } from '../../src/cluster/redis.js';
import { makeUserRecord } from '../../src/auth/users.js';
import { parseConfig } from '../../src/config/load.js';
import { createMemoryStore } from '../../src/store/memory.js';
import type { Store } from '../../src/store/types.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { until as sharedUntil } from '../support/until.js';

export const HOST = 'example.org';
export const TOKEN = 'test-token-0123456789';

export function clusterYaml(opts: { dir: string; redisUrl: string; nodeId: string; leaseMs: number; extra?: string[] }): string {
  return [
    `data_dir: ${opts.dir}`,
    'listeners: {xmpp: {host: 127.0.0.1, port: 0}, mqtt: {host: 127.0.0.1, port: 0}, http: {host: 127.0.0.1, port: 0}}',
    `hosts: {${HOST}: {mqtt: {allow_anonymous: true, max_connections_per_ip: 0, max_connection_rate_per_ip: 0}}}`,
    `api: {token: ${TOKEN}}`,
    `cluster: {redis: {url: "${opts.redisUrl}"}, node_id: ${opts.nodeId}, lease_ms: ${opts.leaseMs}}`,
    'log: {level: silent}',
    ...(opts.extra ?? []),
  ].join('\n');
}

export interface ClusterRig {
  redis: RedisServer;
  nodes: App[];
  stores: Store[];
  /** Add a node (after start): returns it started. */
  addNode(id: string): Promise<App>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  leaseMs?: number;
  users?: [string, string][];
  /** Mutual subscriptions (both) seeded in every node's store: [user, contact bare JID]. */
  contacts?: [string, string][];
  /** Per node id: a wrapper of its Redis connections (fault injection, see partitionable()). */
  wrap?: Record<string, (link: RedisLink) => RedisLink>;
}

/** A Redis link wrapper that can be cut off (every call fails at once) and healed: a partition. */
export function partitionable() {
  let cut = false;
  const fail = () => Promise.reject(new Error('partitioned (test)'));
  const wrap = (l: RedisLink): RedisLink => ({
    send: (key, args) => (cut ? fail() : l.send(key, args)),
    script: (sc, keys, args) => (cut ? fail() : l.script(sc, keys, args)),
    duplicate: async () => wrap(await l.duplicate()),
    onStatus: (listener) => l.onStatus(listener),
    get up() {
      return !cut && l.up;
    },
    close: (force) => l.close(force),
  });
  return { wrap, cut: () => void (cut = true), heal: () => void (cut = false) };
}

export async function startCluster(n: number, opts: ClusterOptions = {}): Promise<ClusterRig> {
  const redis = await startRedis();
  const nodes: App[] = [];
  const stores: Store[] = [];
  const dirs: string[] = [];
  const addNode = async (id: string) => {
    const dir = mkdtempSync(join(tmpdir(), `vigil-cluster-${id}-`));
    dirs.push(dir);
    const loaded = parseConfig(clusterYaml({ dir, redisUrl: redis.url, nodeId: id, leaseMs: opts.leaseMs ?? 1_500 }), join(dir, 'vigil.yaml'));
    const store = createMemoryStore();
    for (const [u, p] of opts.users ?? []) store.users.put(makeUserRecord(HOST, u, p, { now: () => Date.now() }));
    for (const [u, jid] of opts.contacts ?? []) {
      store.rosters.put(HOST, u, { jid, name: null, subscription: 'both', askOut: false, pendingIn: false, approved: false, groups: [] });
    }
    const wrap = opts.wrap?.[id];
    const app = createApp({ loaded, store, processMetrics: false, logger: pino({ level: 'silent' }), ...(wrap ? { wrapRedisLink: wrap } : {}) });
    await app.start();
    nodes.push(app);
    stores.push(store);
    return app;
  };
  for (let i = 0; i < n; i++) await addNode(`n${i + 1}`);
  return {
    redis,
    nodes,
    stores,
    addNode,
    async stop() {
      await Promise.allSettled(nodes.map((a) => a.stop()));
      await redis.stop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

export const port = (app: App, svc: 'mqtt' | 'xmpp' | 'http'): number => app.addresses()[svc]!.port;

export function api(app: App, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Response> {
  return fetch(`http://127.0.0.1:${port(app, 'http')}/v1${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${TOKEN}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
    ...(init.body ? { body: init.body } : {}),
  });
}

export async function json<T = Record<string, unknown>>(res: Promise<Response>): Promise<T> {
  return (await (await res).json()) as T;
}

export function mqttConnect(app: App, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect({ host: '127.0.0.1', port: port(app, 'mqtt'), reconnectPeriod: 0, connectTimeout: 5_000, ...opts });
    c.once('connect', () => resolve(c));
    c.once('error', (e) => {
      c.end(true);
      reject(e);
    });
  });
}

/** The suite's one wait (test/support/until.ts), polling every 10 ms: real sockets and a real Redis. */
export function until(cond: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<true> {
  return sharedUntil(cond, { capMs: ms, everyMs: 10, what });
}
