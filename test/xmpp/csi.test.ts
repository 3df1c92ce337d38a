/**
 * XEP-0352 client state indication over the in-memory duplex on manual time: csi_state in the
 * presence row and the change feed, presence held while inactive with ejabberd's queue_presence
 * semantics (latest per contact resource, flushed on <active/>, at 100, before anything else from
 * that contact; messages never held), the stretched probe interval, and resumption (§5.2).
 */
import { describe, expect, it } from 'vitest';
import { type XmlEl, child, text } from '../../src/xmpp/xml.js';
import { settle } from './duplex.js';
import { type Harness, makeHarness } from './harness.js';
import { DOMAIN } from './rig.js';
import { names, smLogin } from './sm-helpers.js';

const CSI = 'urn:xmpp:csi:0';
const ALICE = `alice@${DOMAIN}/phone`;
const KEY = { host: DOMAIN, transport: 'xmpp' as const, id: ALICE };
const inactive = `<inactive xmlns='${CSI}'/>`;
const active = `<active xmlns='${CSI}'/>`;

async function setup(h: Harness) {
  h.subscribeBoth('alice', 'bob');
  const alice = await h.login('alice', 'phone');
  const bob = await h.login('bob', 'desk');
  await alice.send('<presence/>');
  await bob.send('<presence/>');
  alice.take();
  bob.take();
  return { alice, bob };
}

const shows = (els: XmlEl[]) => els.filter((e) => e.name === 'presence').map((e) => text(child(e, 'show')) || e.attrs.type || 'available');

describe('XEP-0352 client state indication', () => {
  it('csi_state shows in the row and the change feed; nothing is answered to the nonzas (§4.2)', async () => {
    const h = makeHarness();
    const { alice } = await setup(h);
    await alice.send(inactive);
    expect(alice.take()).toEqual([]);
    expect(h.deps.presence.get(KEY)?.meta.csi_state).toBe('inactive');
    await alice.send(active);
    expect(h.deps.presence.get(KEY)?.meta.csi_state).toBe('active');
    const feed = h.deps.presence.readFeed(0, 100);
    if (feed.kind !== 'ok') throw new Error('gone');
    expect(feed.entries.filter((e) => e.kind === 'meta').map((e) => e.row.meta.csi_state)).toEqual(['inactive', 'active']);
  });

  it('while inactive, presence is held (the latest per contact resource) and sent with a delay on <active/>; messages are not held', async () => {
    const h = makeHarness();
    const { alice, bob } = await setup(h);
    await alice.send(inactive);
    await bob.send('<presence><show>away</show></presence>');
    await bob.send('<presence><show>dnd</show></presence>');
    expect(alice.take()).toEqual([]);
    await alice.send(active);
    const got = alice.take();
    expect(shows(got)).toEqual(['dnd']);
    const delay = child(got[0] as XmlEl, 'delay', 'urn:xmpp:delay');
    expect(delay?.attrs.from).toBe(DOMAIN);
    expect(text(delay)).toBe('Client Inactive');
  });

  it('a message from a contact first releases that contact\'s held presence, in order; other contacts stay held', async () => {
    const h = makeHarness({ users: [['alice', 'secret'], ['bob', 'hunter2'], ['carol', 'pw3']] });
    h.subscribeBoth('alice', 'carol');
    const { alice, bob } = await setup(h);
    const carol = await h.login('carol', 'tab');
    await carol.send('<presence/>');
    alice.take();
    await alice.send(inactive);
    await bob.send('<presence><show>xa</show></presence>');
    await carol.send('<presence><show>chat</show></presence>');
    await bob.send(`<message to='${ALICE}' type='chat'><body>hi</body></message>`);
    expect(names(alice.take())).toEqual(['presence', 'message']);
    await alice.send(active);
    expect(shows(alice.take())).toEqual(['chat']);
  });

  it('at 100 held the queue is sent and holding starts over (ejabberd CSI_QUEUE_MAX)', async () => {
    const h = makeHarness({ host: { xmpp: { max_connections_per_ip: 0, max_connection_rate_per_ip: 0 } } });
    const { alice } = await setup(h);
    await alice.send(inactive);
    // 101 senders: directed presence from 101 resources of bob to alice's full JID.
    for (let i = 0; i < 101; i++) {
      const r = await h.login('bob', `r${i}`);
      await r.send(`<presence to='${ALICE}'/>`);
    }
    const got = alice.take();
    expect(got.filter((e) => e.name === 'presence')).toHaveLength(100);
    await alice.send(active);
    expect(alice.take().filter((e) => e.name === 'presence')).toHaveLength(1);
  });

  it('queue_presence false: nothing is held', async () => {
    const h = makeHarness({ host: { xmpp: { queue_presence: false } } });
    const { alice, bob } = await setup(h);
    await alice.send(inactive);
    await bob.send('<presence><show>away</show></presence>');
    expect(shows(alice.take())).toEqual(['away']);
  });

  it('while inactive the probe comes after csi_inactive_ping_interval (default 5 x ping_interval); <active/> restores ping_interval', async () => {
    const h = makeHarness({ host: { ping: { ping_interval: 60 } } });
    const { alice } = await setup(h);
    await alice.send(inactive);
    const handle = h.deps.liveness.get(KEY)!;
    expect(handle.nextDeadlineAt()).toBe(h.deps.clock.now() + 300_000);
    await h.advance(299_999);
    expect(alice.take()).toEqual([]);
    await h.advance(1);
    expect(alice.take()[0]?.name).toBe('iq'); // the XEP-0199 ping (no stream management here)
    await alice.send(`<iq type='result' id='ping-1' to='${DOMAIN}'/>`);
    await alice.send(active);
    expect(handle.nextDeadlineAt()).toBe(h.deps.clock.now() + 60_000);

    const set = makeHarness({ host: { ping: { ping_interval: 60 }, xmpp: { csi_inactive_ping_interval: 900 } } });
    const s = await setup(set);
    await s.alice.send(inactive);
    expect(set.deps.liveness.get(KEY)?.nextDeadlineAt()).toBe(set.deps.clock.now() + 900_000);
    // A runtime change reaches the inactive session.
    await set.deps.hostSettings.change(DOMAIN, { csi_inactive_ping_interval: 120 }, { persist: false });
    expect(set.deps.liveness.get(KEY)?.nextDeadlineAt()).toBe(set.deps.clock.now() + 120_000);
  });

  it('a resumed stream is active (§5.2): what was held is sent after the resent stanzas', async () => {
    const h = makeHarness();
    h.subscribeBoth('alice', 'bob');
    const { c, enabled } = await smLogin(h, 'alice', 'phone');
    const bob = await h.login('bob', 'desk');
    await bob.send('<presence/>');
    await c.send('<presence/>');
    const sentSoFar = c.take().filter((e) => e.name !== 'r').length;
    await c.send(`<a xmlns='urn:xmpp:sm:3' h='${sentSoFar}'/>${inactive}`);
    await bob.send('<presence><show>away</show></presence>');
    c.end.destroy();
    await settle();
    const n = await h.authenticate('alice');
    n.take();
    await n.send(`<resume xmlns='urn:xmpp:sm:3' previd='${enabled.attrs.id}' h='${sentSoFar}'/>`);
    const got = n.take();
    expect(names(got)).toEqual(['resumed', 'r', 'presence']);
    expect(shows(got)).toEqual(['away']);
    expect(h.deps.presence.get(KEY)?.meta.csi_state).toBe('active');
  });
});
