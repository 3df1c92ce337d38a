/**
 * Redis restarting under load. While clients connect and disconnect on three nodes, redis-server
 * is stopped and started again on the same port (1) with its append-only file (a clean restart),
 * and (2) killed with SIGKILL after its files were deleted (all data lost). Nodes reconnect; in
 * the end nothing is double-owned and every node's presence matches the live connections.
 *
 * How it reconciles: ops written while Redis was away wait in each node's writer and are sent
 * again (idempotent: `on` by connection token, the rest compare-and-set); a connect and disconnect
 * that both happened meanwhile are never written. When Redis lost data, RENEW finds no record
 * for a node whose own lease is good: it rejoins with a new epoch and re-asserts every local
 * connection, and the mirrors see the seq counter go back and take a new snapshot.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClusterRig, HOST, port, startCluster, until } from './rig.js';

let c: ClusterRig;
const clients: MqttClient[] = [];

beforeAll(async () => {
  c = await startCluster(3, { leaseMs: 3_000 });
}, 30_000);
afterAll(async () => {
  for (const cl of clients) cl.end(true);
  await c?.stop();
});

interface Conn {
  id: string;
  node: string;
  cl: MqttClient;
  up: boolean;
  closed: boolean;
}

/** Churn: every 20 ms connect a random id of the pool on a random node, or end a random live one. */
function churn(pool: number, prefix: string) {
  const conns: Conn[] = [];
  let n = 0;
  const timer = setInterval(() => {
    n++;
    const live = conns.filter((x) => x.up && !x.closed);
    if (live.length > 0 && n % 3 === 0) {
      const x = live[n % live.length]!;
      x.cl.end(false);
      return;
    }
    const node = n % 3;
    const id = `${prefix}-${(n * 7) % pool}`;
    const cl = mqtt.connect({ host: '127.0.0.1', port: port(c.nodes[node]!, 'mqtt'), clientId: id, reconnectPeriod: 0, connectTimeout: 10_000 });
    const x: Conn = { id, node: `n${node + 1}`, cl, up: false, closed: false };
    cl.on('connect', () => (x.up = true));
    cl.on('close', () => (x.closed = true));
    cl.on('error', () => undefined);
    conns.push(x);
    clients.push(cl);
  }, 20);
  return { conns, stop: () => clearInterval(timer) };
}

async function settledAndConsistent(conns: Conn[], prefix: string, pool: number): Promise<void> {
  await until(() => conns.every((x) => x.closed || x.up), 20_000, 'every connect answered');
  const live = () => {
    const m = new Map<string, Conn[]>();
    for (const x of conns) if (x.up && !x.closed) m.set(x.id, [...(m.get(x.id) ?? []), x]);
    return m;
  };
  await until(() => [...live().values()].every((l) => l.length === 1), 15_000, 'at most one live connection per id');
  const m = live();
  for (const app of c.nodes) {
    await until(
      () => {
        for (let i = 0; i < pool; i++) {
          const id = `${prefix}-${i}`;
          const v = app.deps.presence.get({ host: HOST, transport: 'mqtt', id });
          const x = m.get(id)?.[0];
          if (x ? v?.state !== 'online' || v.node !== x.node : v?.state === 'online') return false;
        }
        return true;
      },
      15_000,
      'presence matches the live connections on every node',
    );
  }
  // Liveness handles held over all nodes: one per live connection, once a connection the other node
  // took over has been closed here too (that close may still be on its way when presence matches).
  const held = () => c.nodes.reduce((n, app) => n + [...app.deps.liveness.list(HOST, 'mqtt')].filter((h) => h.ref.id.startsWith(prefix)).length, 0);
  await until(() => held() === m.size, 10_000, `one liveness handle per live connection (${m.size})`);
  expect(held()).toBe(m.size);
}

describe('Redis restarting under load', () => {
  it('clean restart (append-only file kept): nodes reconnect, nothing double-owned, presence reconciled', async () => {
    const load = churn(30, 'rr');
    await new Promise((r) => setTimeout(r, 600));
    await c.redis.restart();
    await new Promise((r) => setTimeout(r, 800));
    load.stop();
    await settledAndConsistent(load.conns, 'rr', 30);
    expect(c.nodes.every((a) => a.deps.cluster!.membership.state === 'member')).toBe(true);
  }, 60_000);

  it('restart that lost every key: nodes rejoin with new epochs and re-assert their clients', async () => {
    const epochs = c.nodes.map((a) => a.deps.cluster!.membership.epoch);
    const load = churn(30, 'rl');
    await new Promise((r) => setTimeout(r, 600));
    await c.redis.restart({ kill: true, fresh: true });
    await new Promise((r) => setTimeout(r, 800));
    load.stop();
    await settledAndConsistent(load.conns, 'rl', 30);
    await until(() => c.nodes.every((a, i) => a.deps.cluster!.membership.epoch > epochs[i]!), 10_000, 'new epochs');
    expect(c.nodes.every((a) => a.deps.cluster!.membership.recoveries === 1)).toBe(true);
    expect(c.nodes.every((a) => a.deps.cluster!.membership.fences === 0)).toBe(true);
  }, 60_000);
});
