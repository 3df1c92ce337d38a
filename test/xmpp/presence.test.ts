/** RFC 6121 §3-4 and §8.5 over whole streams: presence broadcast, subscriptions, roster, messages. */
import { describe, expect, it } from 'vitest';
import { type XmlEl, child, childrenOf } from '../../src/xmpp/xml.js';
import { settle } from './duplex.js';
import { makeHarness, only } from './harness.js';
import { DOMAIN } from './rig.js';

const A = `alice@${DOMAIN}`;
const B = `bob@${DOMAIN}`;
const C = `carol@${DOMAIN}`;
const summary = (els: XmlEl[]) => els.map((e) => `${e.name}:${e.attrs.type ?? 'available'}:${e.attrs.from ?? ''}`);
const rosterItem = (push: XmlEl | undefined) => child(child(push as XmlEl, 'query') as XmlEl, 'item')?.attrs;

describe('presence broadcast (RFC 6121 §4)', () => {
  it('initial presence reaches both-contacts and own resources, and brings back the contacts\' presence', async () => {
    const h = makeHarness();
    h.subscribeBoth('alice', 'bob');
    const bob = await h.login('bob', 'phone');
    await bob.send(`<presence><show>away</show><status>lunch</status></presence>`);
    bob.take();
    const carol = await h.login('carol', 'pc');
    await carol.send('<presence/>');
    carol.take();
    const alice = await h.login('alice', 'laptop');
    await alice.send(`<presence><priority>5</priority></presence>`);
    expect(summary(bob.take())).toEqual([`presence:available:${A}/laptop`]);
    expect(carol.take()).toEqual([]); // no subscription, no presence
    const got = alice.take();
    expect(summary(got)).toEqual([`presence:available:${A}/laptop`, `presence:available:${B}/phone`]);
    expect(child(got[1] as XmlEl, 'show')?.children).toEqual(['away']);
    const row = h.deps.presence.get({ host: DOMAIN, transport: 'xmpp', id: `${A}/laptop` });
    expect(row).toMatchObject({ state: 'online', available: true, priority: 5 });
    expect(h.deps.presence.get({ host: DOMAIN, transport: 'xmpp', id: `${B}/phone` })).toMatchObject({ show: 'away', status: 'lunch' });
  });

  it('a bound resource without initial presence is connected, not available, and gets no presence', async () => {
    const h = makeHarness();
    h.subscribeBoth('alice', 'bob');
    const bob = await h.login('bob', 'phone');
    const alice = await h.login('alice', 'laptop');
    await alice.send('<presence/>');
    expect(bob.take()).toEqual([]);
    expect(h.deps.presence.get({ host: DOMAIN, transport: 'xmpp', id: `${B}/phone` })).toMatchObject({ state: 'online', available: false });
  });

  it('unavailable goes to watchers, own resources and directed-presence recipients on close (§4.5.2, §4.6.3)', async () => {
    const h = makeHarness();
    h.subscribeBoth('alice', 'bob');
    const bob = await h.login('bob', 'phone');
    await bob.send('<presence/>');
    const carol = await h.login('carol', 'pc');
    await carol.send('<presence/>');
    const alice = await h.login('alice', 'laptop');
    const alice2 = await h.login('alice', 'desk');
    await alice2.send('<presence/>');
    await alice.send('<presence/>');
    await alice.send(`<presence to='${C}'/>`);
    for (const c of [bob, carol, alice2]) c.take();
    await alice.send('</stream:stream>');
    for (const c of [bob, carol, alice2]) expect(summary(c.take())).toEqual([`presence:unavailable:${A}/laptop`]);
    expect(h.deps.presence.get({ host: DOMAIN, transport: 'xmpp', id: `${A}/laptop` })).toMatchObject({ state: 'offline', last_disconnect_reason: 'client_close' });
  });

  it('subsequent and explicit unavailable presence update watchers and the presence table', async () => {
    const h = makeHarness();
    h.subscribeBoth('alice', 'bob');
    const bob = await h.login('bob', 'phone');
    await bob.send('<presence/>');
    const alice = await h.login('alice', 'laptop');
    await alice.send('<presence/>');
    bob.take();
    await alice.send('<presence><show>dnd</show></presence>');
    expect(child(bob.take()[0] as XmlEl, 'show')?.children).toEqual(['dnd']);
    await alice.send(`<presence type='unavailable'><status>bye</status></presence>`);
    expect(summary(bob.take())).toEqual([`presence:unavailable:${A}/laptop`]);
    expect(h.deps.presence.get({ host: DOMAIN, transport: 'xmpp', id: `${A}/laptop` })).toMatchObject({ state: 'online', available: false });
  });
});

describe('subscriptions (RFC 6121 §3)', () => {
  it('subscribe -> subscribed gives to/from, pushes both rosters and delivers the contact\'s presence', async () => {
    const h = makeHarness();
    const alice = await h.login('alice', 'laptop');
    const bob = await h.login('bob', 'phone');
    await alice.send(`<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>`);
    await bob.send(`<iq type='get' id='r2'><query xmlns='jabber:iq:roster'/></iq>`);
    await alice.send('<presence/>');
    await bob.send('<presence/>');
    alice.take();
    bob.take();
    await alice.send(`<presence type='subscribe' to='${B}'/>`);
    const [push] = alice.take();
    expect(rosterItem(push)).toMatchObject({ jid: B, subscription: 'none', ask: 'subscribe' });
    const [req] = bob.take();
    expect(req?.attrs).toMatchObject({ type: 'subscribe', from: A, to: B });
    await bob.send(`<presence type='subscribed' to='${A}'/>`);
    expect(rosterItem(bob.take()[0])).toMatchObject({ jid: A, subscription: 'from' });
    const gotA = alice.take();
    expect(rosterItem(gotA[0])).toMatchObject({ jid: B, subscription: 'to' });
    expect(summary(gotA.slice(1))).toEqual([`presence:subscribed:${B}`, `presence:available:${B}/phone`]);
    expect(h.deps.store.rosters.get(DOMAIN, 'alice', B)).toMatchObject({ subscription: 'to', askOut: false });
    expect(h.deps.store.rosters.get(DOMAIN, 'bob', A)).toMatchObject({ subscription: 'from', pendingIn: false });
    // Alice (`to`) now receives bob's presence changes.
    await bob.send('<presence><show>xa</show></presence>');
    expect(summary(only(alice.take(), 'presence'))).toEqual([`presence:available:${B}/phone`]);
  });

  it('a request made while the contact is offline is delivered at its initial presence (§3.1.3)', async () => {
    const h = makeHarness();
    const alice = await h.login('alice', 'laptop');
    await alice.send(`<presence type='subscribe' to='${B}'/>`);
    const bob = await h.login('bob', 'phone');
    await bob.send('<presence/>');
    expect(summary(only(bob.take(), 'presence'))).toContain(`presence:subscribe:${A}`);
  });

  it('a pre-approved subscription is answered by the server (§3.4); unsubscribe and unsubscribed undo it', async () => {
    const h = makeHarness();
    const bob = await h.login('bob', 'phone');
    await bob.send(`<presence type='subscribed' to='${A}'/>`);
    expect(h.deps.store.rosters.get(DOMAIN, 'bob', A)).toMatchObject({ approved: true, subscription: 'none' });
    const alice = await h.login('alice', 'laptop');
    await alice.send('<presence/>');
    await alice.send(`<presence type='subscribe' to='${B}'/>`);
    expect(h.deps.store.rosters.get(DOMAIN, 'alice', B)).toMatchObject({ subscription: 'to' });
    expect(h.deps.store.rosters.get(DOMAIN, 'bob', A)).toMatchObject({ subscription: 'from', approved: false });
    expect(summary(only(alice.take(), 'presence'))).toContain(`presence:subscribed:${B}`);
    await alice.send(`<presence type='unsubscribe' to='${B}'/>`);
    expect(h.deps.store.rosters.get(DOMAIN, 'alice', B)).toMatchObject({ subscription: 'none' });
    expect(h.deps.store.rosters.get(DOMAIN, 'bob', A)).toMatchObject({ subscription: 'none' });
    h.subscribeBoth('alice', 'bob');
    await bob.send(`<presence type='unsubscribed' to='${A}'/>`);
    expect(h.deps.store.rosters.get(DOMAIN, 'bob', A)).toMatchObject({ subscription: 'to' });
    expect(h.deps.store.rosters.get(DOMAIN, 'alice', B)).toMatchObject({ subscription: 'from' });
  });
});

describe('roster (RFC 6121 §2)', () => {
  it('get, set with push to every interested resource, remove with subscription cancel', async () => {
    const h = makeHarness();
    h.subscribeBoth('alice', 'bob');
    const a1 = await h.login('alice', 'laptop');
    const a2 = await h.login('alice', 'desk');
    const bob = await h.login('bob', 'phone');
    await bob.send('<presence/>');
    bob.take();
    await a1.send(`<iq type='get' id='g'><query xmlns='jabber:iq:roster'/></iq>`);
    const [result] = a1.take();
    expect(childrenOf(child(result as XmlEl, 'query') as XmlEl, 'item').map((i) => i.attrs)).toEqual([{ jid: B, subscription: 'both' }]);
    await a2.send(`<iq type='get' id='g'><query xmlns='jabber:iq:roster'/></iq>`);
    a2.take();
    await a1.send(`<iq type='set' id='s'><query xmlns='jabber:iq:roster'><item jid='${C}' name='Carol'><group>Friends</group></item></query></iq>`);
    const got1 = a1.take();
    expect(got1.map((e) => e.attrs.type)).toEqual(['result', 'set']);
    expect(rosterItem(got1[1])).toMatchObject({ jid: C, name: 'Carol', subscription: 'none' });
    expect(rosterItem(a2.take()[0])).toMatchObject({ jid: C, name: 'Carol' });
    await a1.send(`<iq type='set' id='bad'><query xmlns='jabber:iq:roster'><item jid='${C}' subscription='both'/></query></iq>`);
    expect(a1.take()[0]?.attrs.type).toBe('error');
    await a1.send(`<iq type='set' id='rm'><query xmlns='jabber:iq:roster'><item jid='${B}' subscription='remove'/></query></iq>`);
    expect(rosterItem(a1.take()[1])).toMatchObject({ jid: B, subscription: 'remove' });
    expect(h.deps.store.rosters.get(DOMAIN, 'alice', B)).toBeUndefined();
    expect(h.deps.store.rosters.get(DOMAIN, 'bob', A)).toMatchObject({ subscription: 'none' });
    expect(summary(only(bob.take(), 'presence'))).toEqual([`presence:unsubscribe:${A}`, `presence:unsubscribed:${A}`]);
  });

  it('roster queries to another account are refused (service-unavailable)', async () => {
    const h = makeHarness();
    const a = await h.login('alice', 'laptop');
    await a.send(`<iq type='get' id='g' to='${B}'><query xmlns='jabber:iq:roster'/></iq>`);
    expect(child(child(a.take()[0] as XmlEl, 'error') as XmlEl)?.name).toBe('service-unavailable');
  });
});

describe('message delivery (RFC 6121 §8.5)', () => {
  it('to a bare JID: the highest-priority available resources; to an unknown full JID: as to the bare JID', async () => {
    const h = makeHarness();
    const b1 = await h.login('bob', 'phone');
    const b2 = await h.login('bob', 'pc');
    const b3 = await h.login('bob', 'idle');
    await b1.send('<presence><priority>1</priority></presence>');
    await b2.send('<presence><priority>10</priority></presence>');
    for (const b of [b1, b2, b3]) b.take();
    const alice = await h.login('alice', 'laptop');
    await alice.send(`<message to='${B}' type='chat'><body>hi</body></message>`);
    await alice.send(`<message to='${B}/nope' type='chat'><body>again</body></message>`);
    await alice.send(`<message to='${B}/phone' type='chat'><body>direct</body></message>`);
    expect(b2.take().map((m) => m.attrs.from)).toEqual([`${A}/laptop`, `${A}/laptop`]);
    expect(b1.take().length).toBe(1);
    expect(b3.take()).toEqual([]);
  });

  it('no available resource -> service-unavailable; another domain -> remote-server-not-found', async () => {
    const h = makeHarness();
    const alice = await h.login('alice', 'laptop');
    await alice.send(`<message to='${B}' id='m1'><body>hi</body></message><message to='x@elsewhere.example' id='m2'><body>hi</body></message>`);
    expect(alice.take().map((m) => [m.attrs.id, child(child(m, 'error') as XmlEl)?.name])).toEqual([
      ['m1', 'service-unavailable'],
      ['m2', 'remote-server-not-found'],
    ]);
    await settle();
  });
});
