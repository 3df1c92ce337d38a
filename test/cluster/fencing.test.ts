/**
 * Self-fencing: a node cut off from Redis (every call fails, as in a partition) stops serving
 * once it could not renew its lease for lease_ms: it closes its clients (MQTT 5: DISCONNECT 0x8B,
 * reason node_down) and /readyz answers 503; the other node sweeps its endpoints (node_down).
 * When Redis is reachable again it rejoins with a new epoch and serves again.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HOST, type ClusterRig, mqttConnect, partitionable, port, startCluster, until } from './rig.js';

const LEASE_MS = 1_500;
const net = partitionable();
let c: ClusterRig;

beforeAll(async () => {
  c = await startCluster(2, { leaseMs: LEASE_MS, wrap: { n1: net.wrap } });
}, 30_000);
afterAll(async () => {
  net.heal();
  await c?.stop();
});

const ready = async (i: number) => (await fetch(`http://127.0.0.1:${port(c.nodes[i]!, 'http')}/readyz`)).status;

it('a node cut off from Redis fences itself, is swept by the other, and rejoins with a new epoch', async () => {
  const cl = await mqttConnect(c.nodes[0]!, { clientId: 'fence-1', protocolVersion: 5 });
  cl.on('error', () => undefined);
  await until(() => c.nodes[1]!.deps.presence.get({ host: HOST, transport: 'mqtt', id: 'fence-1' })?.state === 'online');
  const epoch = c.nodes[0]!.deps.cluster!.membership.epoch;
  const reasons: number[] = [];
  cl.on('disconnect', (p) => reasons.push(p.reasonCode ?? -1));
  const closed = new Promise<number>((r) => cl.once('close', () => r(Date.now())));
  const t0 = Date.now();
  net.cut();
  const at = await closed;
  expect(at - t0).toBeLessThanOrEqual(LEASE_MS + 600);
  expect(reasons).toEqual([0x8b]);
  expect(c.nodes[0]!.deps.cluster!.membership.state).toBe('fenced');
  expect(await ready(0)).toBe(503);
  // The survivor sweeps the fenced node's endpoints once its lease ran out in Redis.
  await until(() => c.nodes[1]!.deps.presence.get({ host: HOST, transport: 'mqtt', id: 'fence-1' })?.last_disconnect_reason === 'node_down', 5_000, 'swept by n2');
  net.heal();
  await until(() => c.nodes[0]!.deps.cluster!.membership.state === 'member', 5_000, 'rejoined');
  expect(c.nodes[0]!.deps.cluster!.membership.epoch).toBeGreaterThan(epoch);
  expect(await ready(0)).toBe(200);
  const again = await mqttConnect(c.nodes[0]!, { clientId: 'fence-2' });
  await until(() => c.nodes[1]!.deps.presence.get({ host: HOST, transport: 'mqtt', id: 'fence-2' })?.node === 'n1', 5_000, 'serving again');
  again.end(true);
});
