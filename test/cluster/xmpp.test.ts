/**
 * XMPP across nodes with real clients (@xmpp/client): alice on node 1 and bob on node 2 (mutual
 * subscriptions, the same roster on every node): initial presence is broadcast to the contact on
 * the other node and the probe brings the contact's presence back; a message to a bare JID and a
 * reply to a full JID cross nodes; unavailable presence reaches the other node. Users and rosters
 * are the cluster's: a subscription between users on two nodes updates both rosters everywhere
 * and pushes to the interested resource on the other node; a user added over REST on one node
 * logs in on another.
 */
import { client, xml } from '@xmpp/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ClusterRig, HOST, port, startCluster, until } from './rig.js';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

let c: ClusterRig;
const stops: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  c = await startCluster(2, {
    users: [['alice', 'secret'], ['bob', 'secret'], ['carol', 'secret']],
    contacts: [['alice', `bob@${HOST}`], ['bob', `alice@${HOST}`]],
  });
}, 30_000);
afterAll(async () => {
  for (const s of stops) await Promise.race([s().catch(() => undefined), new Promise((r) => setTimeout(r, 500))]);
  await c?.stop();
});

interface Stanza {
  name: string;
  attrs: Record<string, string>;
  getChildText(name: string): string | null;
  toString(): string;
}

async function login(node: number, user: string, resource: string) {
  const x = client({ service: `xmpp://127.0.0.1:${port(c.nodes[node]!, 'xmpp')}`, domain: HOST, username: user, password: 'secret', resource });
  x.reconnect.stop();
  x.on('error', () => undefined);
  const got: Stanza[] = [];
  x.on('stanza', (s: Stanza) => got.push(s));
  stops.push(() => x.stop());
  await x.start();
  return { x, got };
}

it('presence, probes and messages between users on different nodes', async () => {
  const bob = await login(1, 'bob', 'home');
  await bob.x.send(xml('presence', {}, xml('status', {}, 'at home')));
  await until(() => c.nodes[0]!.deps.presence.get({ host: HOST, transport: 'xmpp', id: `bob@${HOST}/home` })?.available === true, 5_000, 'node 1 sees bob available');

  const alice = await login(0, 'alice', 'desk');
  await alice.x.send(xml('presence'));
  // Probe answered with bob's presence from node 2 (RFC 6121 §4.2.2), alice's presence reaches bob.
  await until(() => alice.got.some((s) => s.name === 'presence' && s.attrs.from === `bob@${HOST}/home` && s.getChildText('status') === 'at home'), 5_000, 'alice gets bob\'s presence');
  await until(() => bob.got.some((s) => s.name === 'presence' && s.attrs.from === `alice@${HOST}/desk` && s.attrs.type === undefined), 5_000, 'bob gets alice\'s presence');
  await until(() => c.nodes[1]!.deps.presence.get({ host: HOST, transport: 'xmpp', id: `alice@${HOST}/desk` })?.available === true);

  await alice.x.send(xml('message', { to: `bob@${HOST}`, type: 'chat', id: 'm1' }, xml('body', {}, 'hello from node 1')));
  await until(() => bob.got.some((s) => s.name === 'message' && s.getChildText('body') === 'hello from node 1'), 5_000, 'bob gets the message');
  const m = bob.got.find((s) => s.name === 'message')!;
  expect(m.attrs.from).toBe(`alice@${HOST}/desk`);

  await bob.x.send(xml('message', { to: `alice@${HOST}/desk`, type: 'chat', id: 'm2' }, xml('body', {}, 'hi from node 2')));
  await until(() => alice.got.some((s) => s.name === 'message' && s.getChildText('body') === 'hi from node 2'), 5_000, 'alice gets the reply');

  await bob.x.send(xml('presence', { type: 'unavailable' }));
  await until(() => alice.got.some((s) => s.name === 'presence' && s.attrs.from === `bob@${HOST}/home` && s.attrs.type === 'unavailable'), 5_000, 'alice gets bob unavailable');
});

it('subscription across nodes: both rosters change on every node, roster push on the other node', async () => {
  const rosterGet = () => xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' }));
  const alice = await login(0, 'alice', 'sub');
  await alice.x.iqCaller.request(rosterGet());
  await alice.x.send(xml('presence'));
  const carol = await login(1, 'carol', 'sub');
  await carol.x.iqCaller.request(rosterGet());
  await until(() => c.nodes[1]!.deps.presence.get({ host: HOST, transport: 'xmpp', id: `alice@${HOST}/sub` })?.available === true, 5_000, 'node 2 sees alice');
  await carol.x.send(xml('presence', {}, xml('status', {}, 'carol here')));
  await until(() => c.nodes[0]!.deps.presence.get({ host: HOST, transport: 'xmpp', id: `carol@${HOST}/sub` })?.available === true, 5_000, 'node 1 sees carol');
  await alice.x.send(xml('presence', { to: `carol@${HOST}`, type: 'subscribe' }));
  await until(() => carol.got.some((s) => s.name === 'presence' && s.attrs.type === 'subscribe' && s.attrs.from === `alice@${HOST}`), 5_000, 'carol gets the request');
  await carol.x.send(xml('presence', { to: `alice@${HOST}`, type: 'subscribed' }));
  await until(() => alice.got.some((s) => s.name === 'presence' && s.attrs.type === 'subscribed'), 5_000, 'alice gets subscribed');
  // alice's roster changed on node 2 (carol's answer): node 1 pushes it to alice's interested resource.
  await until(() => alice.got.some((s) => s.name === 'iq' && s.attrs.type === 'set' && s.toString().includes('subscription="to"')), 5_000, 'alice gets the roster push');
  await until(() => alice.got.some((s) => s.name === 'presence' && s.attrs.from === `carol@${HOST}/sub` && s.getChildText('status') === 'carol here'), 5_000, 'alice sees carol');
  for (const app of c.nodes) {
    await until(() => app.deps.store.rosters.get(HOST, 'alice', `carol@${HOST}`)?.subscription === 'to', 5_000, 'alice roster everywhere');
    await until(() => app.deps.store.rosters.get(HOST, 'carol', `alice@${HOST}`)?.subscription === 'from', 5_000, 'carol roster everywhere');
  }
});

it('a user added over REST on node 2 logs in on node 1', async () => {
  const r = await fetch(`http://127.0.0.1:${port(c.nodes[1]!, 'http')}/v1/hosts/${HOST}/users`, {
    method: 'POST',
    headers: { authorization: 'Bearer test-token-0123456789', 'content-type': 'application/json' },
    body: JSON.stringify({ user: 'dave', password: 'davepass' }),
  });
  expect(r.status).toBe(201);
  await until(() => c.nodes[0]!.deps.store.users.get(HOST, 'dave') !== undefined, 5_000, 'node 1 has dave');
  const x = client({ service: `xmpp://127.0.0.1:${port(c.nodes[0]!, 'xmpp')}`, domain: HOST, username: 'dave', password: 'davepass', resource: 'r' });
  x.reconnect.stop();
  x.on('error', () => undefined);
  stops.push(() => x.stop());
  await x.start();
});
