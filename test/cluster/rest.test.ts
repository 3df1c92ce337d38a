/**
 * REST from any node in cluster mode: kick and ping-now of an endpoint held by another node are
 * forwarded to its owner and answer as locally; an owner that does not answer gives 504; GET
 * /v1/cluster lists the nodes; SSE resumes on another node with Last-Event-ID without a gap; an
 * XMPP full JID bound on a second node takes over the first (stream error `conflict`).
 */
import { request } from 'node:http';
import { client, xml } from '@xmpp/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PresenceView } from '../../src/presence/types.js';
import { type ClusterRig, HOST, api, json, mqttConnect, port, startCluster, until } from './rig.js';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

let c: ClusterRig;
const closers: (() => unknown)[] = [];

beforeAll(async () => {
  c = await startCluster(3, { users: [['alice', 'secret']] });
}, 30_000);
afterAll(async () => {
  for (const f of closers) await Promise.race([Promise.resolve(f()).catch(() => undefined), new Promise((r) => setTimeout(r, 500))]);
  await c?.stop();
});

const endpoint = async (i: number, transport: string, id: string) => {
  const r = await api(c.nodes[i]!, `/hosts/${HOST}/endpoints/${transport}/${encodeURIComponent(id)}`);
  return r.status === 200 ? ((await r.json()) as { items: PresenceView[] }).items[0]! : null;
};

function xmppClient(node: number, resource: string) {
  const x = client({ service: `xmpp://127.0.0.1:${port(c.nodes[node]!, 'xmpp')}`, domain: HOST, username: 'alice', password: 'secret', resource });
  x.reconnect.stop();
  x.iqCallee.get('urn:xmpp:ping', 'ping', () => ({}));
  const errors: string[] = [];
  x.on('error', (e: { condition?: string }) => errors.push(e.condition ?? String(e)));
  closers.push(() => x.stop());
  return { x, errors };
}

/** Read SSE frames from a node until `n` ids came; returns the ids and closes the socket. */
function sseIds(node: number, n: number, lastEventId?: string): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const ids: number[] = [];
    let buf = '';
    const req = request(
      {
        host: '127.0.0.1',
        port: port(c.nodes[node]!, 'http'),
        path: `/v1/events${lastEventId ? '' : '?after=0'}`,
        headers: { authorization: 'Bearer test-token-0123456789', accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
      },
      (res) => {
        res.on('data', (d: Buffer) => {
          buf += d.toString();
          for (const m of buf.matchAll(/^id: (\d+)$/gm)) if (!ids.includes(Number(m[1]))) ids.push(Number(m[1]));
          if (ids.length >= n) {
            req.destroy();
            resolve(ids.slice(0, n));
          }
        });
      },
    );
    req.on('error', (e) => (ids.length >= n ? undefined : reject(e)));
    req.end();
  });
}

describe('REST from any node', () => {
  it('GET /v1/cluster lists the three nodes with epoch, lease and endpoints', async () => {
    const r = await json<{ node: string; state: string; nodes: { node: string; epoch: number; lease_expires_at: number; self: boolean; http: string }[] }>(api(c.nodes[1]!, '/cluster'));
    expect(r.node).toBe('n2');
    expect(r.state).toBe('member');
    expect(r.nodes.map((n) => n.node)).toEqual(['n1', 'n2', 'n3']);
    expect(r.nodes.find((n) => n.self)?.node).toBe('n2');
    expect(new Set(r.nodes.map((n) => n.epoch)).size).toBe(3);
    for (const n of r.nodes) expect(n.lease_expires_at).toBeGreaterThan(Date.now() - 1_000);
    expect(r.nodes[0]!.http).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('ping-now and kick of an XMPP endpoint held by node 1, asked on node 3', async () => {
    const { x } = xmppClient(0, 'phone');
    await x.start();
    await x.send(xml('presence'));
    await until(async () => (await endpoint(2, 'xmpp', 'alice@example.org/phone'))?.available === true);
    const pong = await api(c.nodes[2]!, `/hosts/${HOST}/endpoints/xmpp/${encodeURIComponent('alice@example.org/phone')}/ping`, { method: 'POST' });
    expect(pong.status).toBe(200);
    const body = (await pong.json()) as { id: string; rtt_ms: number; answer: string };
    expect(body.id).toBe('alice@example.org/phone');
    expect(body.answer).toBe('pong');
    const offline = new Promise<void>((r) => x.once('disconnect', () => r()));
    const kick = await api(c.nodes[2]!, `/hosts/${HOST}/endpoints/xmpp/${encodeURIComponent('alice@example.org/phone')}`, { method: 'DELETE' });
    expect(kick.status).toBe(200);
    const k = (await kick.json()) as { kicked: { id: string; generation: number }[] };
    expect(k.kicked.map((e) => e.id)).toEqual(['alice@example.org/phone']);
    await offline;
    await until(async () => (await endpoint(1, 'xmpp', 'alice@example.org/phone'))?.state === 'offline');
    expect((await endpoint(1, 'xmpp', 'alice@example.org/phone'))!.last_disconnect_reason).toBe('kicked');
  });

  it('XMPP resource conflict across nodes: the first stream ends with conflict', async () => {
    const a = xmppClient(0, 'desk');
    await a.x.start();
    await until(async () => (await endpoint(1, 'xmpp', 'alice@example.org/desk'))?.node === 'n1');
    const b = xmppClient(1, 'desk');
    await b.x.start();
    await until(() => a.errors.includes('conflict'));
    await until(async () => (await endpoint(2, 'xmpp', 'alice@example.org/desk'))?.node === 'n2');
    expect((await endpoint(0, 'xmpp', 'alice@example.org/desk'))!.state).toBe('online');
  });

  it('a forwarded kick whose owner does not answer is 504', async () => {
    const cl = await mqttConnect(c.nodes[0]!, { clientId: 'mute-1' });
    closers.push(() => cl.end(true));
    await until(async () => (await endpoint(1, 'mqtt', 'mute-1'))?.state === 'online');
    // The owner stops reading its inbox (as a hung node would) while its lease is still good.
    const owner = c.nodes[0]!.deps.cluster!.commands;
    const handle = owner.handle.bind(owner);
    owner.handle = () => undefined;
    await api(c.nodes[1]!, `/hosts/${HOST}/config`, { method: 'PATCH', body: JSON.stringify({ ping_ack_timeout: 1 }) });
    const t0 = Date.now();
    const r = await api(c.nodes[1]!, `/hosts/${HOST}/endpoints/mqtt/mute-1`, { method: 'DELETE' });
    owner.handle = handle;
    expect(r.status).toBe(504);
    expect(((await r.json()) as { code: string }).code).toBe('VIGIL_ERR_CLUSTER_FORWARD_TIMEOUT');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2_900);
  });

  it('PATCH host config on one node applies on every node, and on a node that joins later', async () => {
    const r = await api(c.nodes[2]!, `/hosts/${HOST}/config`, { method: 'PATCH', body: JSON.stringify({ ping_interval: 7, mqtt_probe: 'pingreq' }) });
    expect(r.status).toBe(200);
    for (const app of c.nodes) {
      await until(() => app.deps.liveness.hostConfig(HOST)?.ping_interval === 7 && app.deps.liveness.hostConfig(HOST)?.mqtt_probe === 'pingreq', 5_000, 'applied everywhere');
    }
    const late = await c.addNode('n4');
    expect(late.deps.liveness.hostConfig(HOST)).toMatchObject({ ping_interval: 7, mqtt_probe: 'pingreq' });
    const cfg = await json<{ config: { ping_interval: number } }>(api(late, `/hosts/${HOST}/config`));
    expect(cfg.config.ping_interval).toBe(7);
  });

  it('SSE: a reader resumes on another node with Last-Event-ID, without a gap', async () => {
    const warm = await mqttConnect(c.nodes[1]!, { clientId: 'sse-0' });
    await new Promise<void>((r) => warm.end(false, {}, () => r()));
    await until(async () => (await endpoint(0, 'mqtt', 'sse-0'))?.state === 'offline');
    const first = await sseIds(0, 2);
    expect(first.length).toBe(2);
    const last = first[1]!;
    const cl = await mqttConnect(c.nodes[2]!, { clientId: 'sse-1' });
    await new Promise<void>((r) => cl.end(false, {}, () => r()));
    await until(async () => (await endpoint(0, 'mqtt', 'sse-1'))?.state === 'offline');
    const all = await json<{ entries: { seq: number }[] }>(api(c.nodes[1]!, `/events?after=${last}&limit=1000`, { headers: { accept: 'application/json' } }));
    const expected = all.entries.map((e) => e.seq);
    expect(expected.length).toBeGreaterThanOrEqual(2);
    const resumed = await sseIds(1, expected.length, String(last));
    expect(resumed).toEqual(expected);
  });
});
