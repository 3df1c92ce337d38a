/**
 * End-to-end stream management with @xmpp/client 0.13.6 (its @xmpp/stream-management 0.13.3
 * module, a client nobody here wrote) on real sockets, port 0. That module enables SM with
 * resumption after binding, answers <r/>, and on a reconnect (its reconnect module, 1 s after a
 * drop) resumes with the former SM-ID instead of binding; it keeps no queue of its own stanzas.
 * Here: enable, drop the TCP connection under the client, messages sent meanwhile, resume on a
 * new connection: the messages arrive once, the endpoint was `resumable` and never offline, and
 * keeps its generation.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Client, client, xml } from '@xmpp/client';
import type { LivenessEvent } from '../../src/liveness/types.js';
import { BoundSession } from '../../src/xmpp/bound-session.js';
import { createXmppListener, type XmppListener } from '../../src/xmpp/listener.js';
import { until } from '../support/until.js';
import { DOMAIN, makeRig } from './rig.js';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

const open: Array<{ stop(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.stop().catch(() => undefined);
});

const ALICE = `alice@${DOMAIN}/phone`;

function start(svc: XmppListener, username: string, password: string, resource: string, reconnect: boolean): Promise<Client> {
  const c = client({ service: `xmpp://127.0.0.1:${svc.address()?.port ?? 0}`, domain: DOMAIN, username, password, resource });
  c.on('error', () => undefined);
  if (!reconnect) c.reconnect.stop();
  open.push({ stop: () => c.stop() });
  return c.start().then(() => c);
}

describe('@xmpp/client stream management end to end', () => {
  it('enable, drop the TCP connection, messages meanwhile, resume on a new connection: each message once, never offline', async () => {
    const rig = makeRig({ realTime: true });
    const svc = createXmppListener(rig.deps);
    await svc.start();
    open.push(svc);
    const events: LivenessEvent[] = [];
    rig.deps.liveness.subscribe((e) => events.push(e));

    const alice = await start(svc, 'alice', 'secret', 'phone', true);
    const bodies: string[] = [];
    alice.on('stanza', (el) => {
      if (el.name === 'message') bodies.push(el.getChild('body')?.toString().replace(/<\/?body>/g, '') ?? '');
    });
    await until(() => alice.streamManagement.enabled && alice.streamManagement.id !== '', { capMs: 5_000, everyMs: 10, what: 'SM enabled' });
    const session = () => svc.engine.router.get(ALICE) as BoundSession;
    expect(session().sm).toMatchObject({ resumeS: 300 });
    const gen = rig.deps.liveness.get({ host: DOMAIN, transport: 'xmpp', id: ALICE })!.ref.generation;

    const bob = await start(svc, 'bob', 'hunter2', 'desk', false);
    const say = (body: string) => bob.send(xml('message', { to: ALICE, type: 'chat' }, xml('body', {}, body)));
    await say('before');
    await until(() => bodies.includes('before') && session().sm?.queued === 0, { capMs: 5_000, everyMs: 10, what: 'before delivered and acked' });

    // The network goes: the socket dies under the client, no </stream:stream>.
    events.splice(0);
    alice.socket?.socket?.destroy();
    await until(() => rig.deps.liveness.get({ host: DOMAIN, transport: 'xmpp', id: ALICE })?.state === 'resumable', { capMs: 5_000, everyMs: 5, what: 'resumable' });
    const row = rig.deps.presence.get({ host: DOMAIN, transport: 'xmpp', id: ALICE });
    expect(row?.state).toBe('online');
    expect(row?.resumable_until).toBeGreaterThan(Date.now() + 290_000);
    for (const b of ['m1', 'm2', 'm3']) await say(b);

    // @xmpp/client reconnects after 1 s and resumes.
    await until(() => ['m1', 'm2', 'm3'].every((b) => bodies.includes(b)), { capMs: 8_000, everyMs: 10, what: 'the messages sent meanwhile' });
    await until(() => session().sm?.queued === 0, { capMs: 5_000, everyMs: 10, what: 'acked after the resume' });
    expect(bodies).toEqual(['before', 'm1', 'm2', 'm3']);
    const handle = rig.deps.liveness.get({ host: DOMAIN, transport: 'xmpp', id: ALICE })!;
    expect(handle.state).toBe('active');
    expect(handle.ref.generation).toBe(gen);
    const mine = events.filter((e) => 'ref' in e && e.ref.id === ALICE);
    expect(mine.filter((e) => e.type === 'offline' || e.type === 'online')).toEqual([]);
    expect(mine.filter((e) => e.type === 'state').map((e) => (e as { state: string }).state)).toEqual(['resumable', 'active']);

    // And the resumed stream works both ways.
    const pong = await alice.iqCaller.request(xml('iq', { type: 'get', to: DOMAIN }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    expect(pong.attrs.type).toBe('result');
    expect(await handle.probeNow()).toMatchObject({ kind: 'answered' }); // an <r/>, answered with <a/>
    expect(session().sm).toBeDefined();
    expect(session()).toBeInstanceOf(BoundSession);
  });
});
