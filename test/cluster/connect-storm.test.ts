/**
 * 1,000 concurrent MQTT connects of the same 100 client ids spread over three nodes: when the
 * storm settles each id has exactly one live connection, and every node's presence shows that id
 * online on the node that holds the survivor (the generation fence, not message delivery, decides).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PresenceView } from '../../src/presence/types.js';
import { type ClusterRig, HOST, port, startCluster, until } from './rig.js';

let c: ClusterRig;
const clients: MqttClient[] = [];

beforeAll(async () => {
  c = await startCluster(3);
}, 30_000);
afterAll(async () => {
  for (const cl of clients) cl.end(true);
  await c?.stop();
});

it('1,000 connects of 100 ids over 3 nodes end with one live connection per id and matching presence', async () => {
  const IDS = 100;
  const PER_ID = 10;
  const state: { id: string; node: string; connected: boolean; closed: boolean }[] = [];
  for (let k = 0; k < PER_ID; k++) {
    for (let i = 0; i < IDS; i++) {
      const n = (i + k) % 3;
      const s = { id: `storm-${i}`, node: `n${n + 1}`, connected: false, closed: false };
      state.push(s);
      const cl = mqtt.connect({ host: '127.0.0.1', port: port(c.nodes[n]!, 'mqtt'), clientId: s.id, reconnectPeriod: 0, connectTimeout: 20_000, protocolVersion: k % 2 ? 5 : 4 });
      cl.on('connect', () => (s.connected = true));
      cl.on('close', () => (s.closed = true));
      cl.on('error', () => undefined);
      clients.push(cl);
    }
  }
  await until(() => state.every((s) => s.closed || s.connected), 40_000, 'every connect answered');
  const liveOf = () => {
    const m = new Map<string, typeof state>();
    for (const s of state) if (s.connected && !s.closed) m.set(s.id, [...(m.get(s.id) ?? []), s]);
    return m;
  };
  await until(() => [...liveOf().values()].every((l) => l.length === 1) && liveOf().size === IDS, 20_000, 'one live connection per id');
  const live = liveOf();
  for (const app of c.nodes) {
    await until(
      () => [...live.entries()].every(([id, [s]]) => {
        const v = app.deps.presence.get({ host: HOST, transport: 'mqtt', id }) as PresenceView | undefined;
        return v?.state === 'online' && v.node === s!.node;
      }),
      10_000,
      'presence matches on every node',
    );
  }
  const gens = c.nodes.map((app) => [...live.keys()].map((id) => app.deps.presence.get({ host: HOST, transport: 'mqtt', id })!.generation));
  expect(gens[1]).toEqual(gens[0]);
  expect(gens[2]).toEqual(gens[0]);
  // Nothing else stays connected: local liveness handles are the live connections.
  expect(c.nodes.reduce((n, app) => n + app.deps.liveness.size(HOST), 0)).toBe(IDS);
}, 90_000);
