/**
 * Three Vigil nodes on one redis-server share one presence: an MQTT client on one node is listed
 * by every node's REST API with the node that holds it; a takeover of its client id on another
 * node closes the old connection (MQTT 5: DISCONNECT 0x8E, 3.1.1: the socket) and presence shows
 * one continuous online row; the old connection's late offline write is dropped as stale.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListPage, PresenceView } from '../../src/presence/types.js';
import { type ClusterRig, HOST, api, json, mqttConnect, startCluster, until } from './rig.js';

let c: ClusterRig;
const clients: MqttClient[] = [];

beforeAll(async () => {
  c = await startCluster(3);
}, 30_000);
afterAll(async () => {
  for (const cl of clients) cl.end(true);
  await c?.stop();
});

const endpoint = async (i: number, id: string) => {
  const r = await api(c.nodes[i]!, `/hosts/${HOST}/endpoints/mqtt/${encodeURIComponent(id)}`);
  return r.status === 200 ? ((await r.json()) as { items: PresenceView[] }).items[0]! : null;
};

describe('shared presence', () => {
  it('a client on node 1 is listed on every node, with its node', async () => {
    const cl = await mqttConnect(c.nodes[0]!, { clientId: 'dev-1', protocolVersion: 5 });
    clients.push(cl);
    for (let i = 0; i < 3; i++) await until(async () => (await endpoint(i, 'dev-1'))?.state === 'online', 5_000, `node ${i + 1} sees dev-1`);
    const views = await Promise.all([0, 1, 2].map((i) => endpoint(i, 'dev-1')));
    expect(views.map((v) => v!.node)).toEqual(['n1', 'n1', 'n1']);
    expect(new Set(views.map((v) => v!.generation)).size).toBe(1);
    const page = await json<ListPage>(api(c.nodes[2]!, `/hosts/${HOST}/endpoints?state=online`));
    expect(page.items.map((v) => v.id)).toContain('dev-1');
  });

  it('takeover across nodes (MQTT 5): the old connection gets DISCONNECT 0x8E, one online row, no offline', async () => {
    const old = await mqttConnect(c.nodes[0]!, { clientId: 'dev-2', protocolVersion: 5 });
    clients.push(old);
    await until(async () => (await endpoint(1, 'dev-2'))?.state === 'online');
    const before = (await endpoint(1, 'dev-2'))!;
    const reasons: number[] = [];
    old.on('disconnect', (p) => reasons.push(p.reasonCode ?? -1));
    const closed = new Promise<void>((r) => old.once('close', () => r()));
    const nu = await mqttConnect(c.nodes[1]!, { clientId: 'dev-2', protocolVersion: 5 });
    clients.push(nu);
    await closed;
    expect(reasons).toEqual([0x8e]);
    await until(async () => (await endpoint(2, 'dev-2'))?.node === 'n2');
    await new Promise((r) => setTimeout(r, 200)); // the old node's offline write has been answered
    const after = (await endpoint(2, 'dev-2'))!;
    expect(after.state).toBe('online');
    expect(after.generation).toBeGreaterThan(before.generation);
    expect(after.connected_at).toBe(before.connected_at);
    const feed = await json<{ entries: { kind: string; id: string; takeover?: boolean }[] }>(
      api(c.nodes[0]!, '/events?after=0&limit=1000', { headers: { accept: 'application/json' } }),
    );
    const mine = feed.entries.filter((e) => e.id === 'dev-2');
    expect(mine.map((e) => [e.kind, e.takeover])).toEqual([
      ['online', false],
      ['online', true],
    ]);
    expect(c.nodes[0]!.deps.cluster!.writer.stale).toBeGreaterThanOrEqual(1);
  });

  it('takeover across nodes (MQTT 3.1.1): the old socket is closed', async () => {
    const old = await mqttConnect(c.nodes[2]!, { clientId: 'dev-3', protocolVersion: 4 });
    clients.push(old);
    await until(async () => (await endpoint(0, 'dev-3'))?.state === 'online');
    const closed = new Promise<void>((r) => old.once('close', () => r()));
    clients.push(await mqttConnect(c.nodes[0]!, { clientId: 'dev-3', protocolVersion: 4 }));
    await closed;
    await until(async () => (await endpoint(1, 'dev-3'))?.node === 'n1');
  });

  it('a clean disconnect goes offline everywhere with its reason', async () => {
    const cl = await mqttConnect(c.nodes[1]!, { clientId: 'dev-4', protocolVersion: 5 });
    await until(async () => (await endpoint(0, 'dev-4'))?.state === 'online');
    await new Promise<void>((r) => cl.end(false, {}, () => r()));
    await until(async () => (await endpoint(2, 'dev-4'))?.state === 'offline');
    expect((await endpoint(0, 'dev-4'))!.last_disconnect_reason).toBe('client_close');
  });

  it('connections that come and go within one write window still reach presence and the feed', async () => {
    const ids = ['flash-1', 'flash-2', 'flash-3', 'flash-4', 'flash-5'];
    await Promise.all(
      ids.map(async (id, i) => {
        const cl = await mqttConnect(c.nodes[i % 3]!, { clientId: id });
        cl.end(true); // no DISCONNECT: the socket just goes
      }),
    );
    for (const id of ids) await until(async () => (await endpoint(1, id))?.state === 'offline', 10_000, `${id} offline`);
    const feed = await json<{ entries: { kind: string; id: string }[] }>(api(c.nodes[2]!, '/events?after=0&limit=1000', { headers: { accept: 'application/json' } }));
    for (const id of ids) expect(feed.entries.filter((e) => e.id === id).map((e) => e.kind)).toEqual(['online', 'offline']);
  });

  it('GET /v1/hosts counts match the listed rows on every node', async () => {
    for (const app of c.nodes) {
      const hosts = await json<{ items: { host: string; online: { mqtt: number }; offline: { mqtt: number } }[] }>(api(app, '/hosts'));
      const h = hosts.items.find((x) => x.host === HOST)!;
      const on = await json<ListPage>(api(app, `/hosts/${HOST}/endpoints?transport=mqtt&state=online&limit=1000`));
      const off = await json<ListPage>(api(app, `/hosts/${HOST}/endpoints?transport=mqtt&state=offline&limit=1000`));
      expect([h.online.mqtt, h.offline.mqtt]).toEqual([on.items.length, off.items.length]);
      expect(on.items.length).toBeGreaterThanOrEqual(3);
      expect(off.items.length).toBe(6);
    }
  });
});
