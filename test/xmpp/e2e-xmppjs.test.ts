/**
 * End-to-end with @xmpp/client 0.13 (a client nobody here wrote) on a real socket, port 0:
 * STARTTLS + PLAIN (see below), bind, disco shows urn:xmpp:ping, client ping answered, server ping
 * after ping_interval, a silent client killed after ping_interval + ping_ack_timeout while a
 * subscribed contact sees it go unavailable.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { client, xml } from '@xmpp/client';
import { createXmppListener, type XmppListener } from '../../src/xmpp/listener.js';
import { until } from '../support/until.js';
import { DOMAIN, makeRig } from './rig.js';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

type XmppClient = ReturnType<typeof client>;
const open: Array<{ stop(): Promise<unknown> }> = [];

afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.stop().catch(() => undefined);
});

async function startServer(host: Record<string, unknown> = {}): Promise<{ svc: XmppListener; port: number; rig: ReturnType<typeof makeRig> }> {
  const rig = makeRig({ realTime: true, host });
  const svc = createXmppListener(rig.deps);
  await svc.start();
  open.push(svc);
  return { svc, port: svc.address()?.port ?? 0, rig };
}

async function connect(port: number, username: string, password: string, resource: string): Promise<XmppClient> {
  const c = client({ service: `xmpp://127.0.0.1:${port}`, domain: DOMAIN, username, password, resource });
  c.on('error', () => undefined);
  c.reconnect.stop();
  await c.start();
  open.push({ stop: () => c.stop() });
  return c;
}

describe('@xmpp/client end to end', () => {
  it('negotiates STARTTLS + SCRAM-SHA-1, binds, disco lists urn:xmpp:ping, ping is answered', async () => {
    // package.json pins sasl-scram-sha-1 1.3.0 (overrides): 1.4.0 answers asynchronously and
    // @xmpp/client 0.13 sends an empty SCRAM response before it is ready.
    const { port, rig } = await startServer({});
    const c = await connect(port, 'alice', 'secret', 'laptop');
    expect(String(c.jid)).toBe(`alice@${DOMAIN}/laptop`);
    const row = rig.deps.presence.get({ host: DOMAIN, transport: 'xmpp', id: `alice@${DOMAIN}/laptop` });
    expect(row?.meta).toMatchObject({ tls: true, sasl_mechanism: 'SCRAM-SHA-1' });
    expect(c.socket?.constructor.name).toMatch(/TLS|Socket/);
    const info = await c.iqCaller.request(xml('iq', { type: 'get', to: DOMAIN }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })));
    const features = info.getChild('query')?.getChildren('feature').map((f) => f.attrs.var);
    expect(features).toContain('urn:xmpp:ping');
    const pong = await c.iqCaller.request(xml('iq', { type: 'get', to: DOMAIN }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    expect(pong.attrs.type).toBe('result');
    const pongNoTo = await c.iqCaller.request(xml('iq', { type: 'get' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    expect(pongNoTo.attrs.type).toBe('result');
  });

  it('pings an idle client after ping_interval and kills a silent one; its contact sees it go unavailable', async () => {
    // XEP-0199 pings: stream management off (@xmpp/client enables it when offered; e2e-sm-xmppjs.test.ts covers that).
    const { port, rig } = await startServer({
      ping: { send_pings: true, ping_interval: 1, ping_ack_timeout: 1, timeout_action: 'kill' },
      xmpp: { stream_management: false },
    });
    // Mutual subscription between alice and bob, straight in the store.
    const item = (jid: string) => ({ jid, name: null, subscription: 'both' as const, askOut: false, pendingIn: false, approved: false, groups: [] });
    rig.deps.store.rosters.put(DOMAIN, 'alice', item(`bob@${DOMAIN}`));
    rig.deps.store.rosters.put(DOMAIN, 'bob', item(`alice@${DOMAIN}`));

    const bob = await connect(port, 'bob', 'hunter2', 'phone');
    bob.iqCallee.get('urn:xmpp:ping', 'ping', () => ({}));
    const bobSees: Array<{ from: string; type: string; at: number }> = [];
    bob.on('stanza', (el) => {
      if (el.name === 'presence') bobSees.push({ from: el.attrs.from ?? '', type: el.attrs.type ?? 'available', at: Date.now() });
    });
    await bob.send(xml('presence'));

    const alice = await connect(port, 'alice', 'secret', 'laptop');
    const pings: number[] = [];
    alice.on('stanza', (el) => {
      if (el.name === 'iq' && el.getChild('ping', 'urn:xmpp:ping')) pings.push(Date.now());
    });
    await alice.send(xml('presence'));
    const lastSent = Date.now();
    await until(() => bobSees.some((p) => p.from === `alice@${DOMAIN}/laptop` && p.type === 'available'), { capMs: 3_000, everyMs: 10 });
    // Alice goes silent: nothing she would send (pong included) reaches the server any more.
    alice.send = async () => undefined;

    await until(() => bobSees.some((p) => p.from === `alice@${DOMAIN}/laptop` && p.type === 'unavailable'), { capMs: 6_000, everyMs: 10 });
    const killedAt = bobSees.find((p) => p.type === 'unavailable')?.at ?? 0;
    expect(pings.length).toBeGreaterThanOrEqual(1);
    expect((pings[0] ?? 0) - lastSent).toBeGreaterThanOrEqual(900);
    expect((pings[0] ?? 0) - lastSent).toBeLessThan(2_000);
    expect(killedAt - lastSent).toBeGreaterThanOrEqual(1_900);
    expect(killedAt - lastSent).toBeLessThan(3_500);
    const offline = rig.events.find((e) => e.type === 'offline' && e.ref.id === `alice@${DOMAIN}/laptop`);
    expect(offline).toMatchObject({ reason: 'ping_timeout' });
    // Bob answered his pings and is still there.
    expect(rig.deps.liveness.get({ host: DOMAIN, transport: 'xmpp', id: `bob@${DOMAIN}/phone` })?.live).toBe(true);
  });
});
