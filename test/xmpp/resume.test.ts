/**
 * XEP-0198 §5 stream resumption over the in-memory duplex on manual time: a dropped connection
 * leaves the session resumable (liveness `resumable`, resumable_until), a <resume/> on a new
 * connection brings it back with the same generation and resends what was not handled; the races
 * (a resume while the old stream is open, the old close arriving after the resume), the timeout,
 * a restart, a kick, a takeover and the limits.
 */
import { describe, expect, it } from 'vitest';
import { type XmlEl, child, text } from '../../src/xmpp/xml.js';
import type { TestClient } from './duplex.js';
import { settle } from './duplex.js';
import { type Harness, makeHarness } from './harness.js';
import { DOMAIN } from './rig.js';
import { names, sessionOf, smLogin } from './sm-helpers.js';

const SM = 'urn:xmpp:sm:3';
const ALICE = `alice@${DOMAIN}/phone`;
const KEY = { host: DOMAIN, transport: 'xmpp' as const, id: ALICE };

const resume = (previd: string, h: number) => `<resume xmlns='${SM}' previd='${previd}' h='${h}'/>`;
const bodies = (els: XmlEl[]) => els.filter((e) => e.name === 'message').map((e) => text(child(e, 'body')));

/** Authenticate a new connection as alice and resume `previd`; the server's answers. */
async function resumeOn(h: Harness, previd: string, handled: number, ip?: string): Promise<{ c: TestClient; got: XmlEl[] }> {
  const c = await h.authenticate('alice', ip);
  c.take();
  await c.send(resume(previd, handled));
  return { c, got: c.take() };
}

/** Alice (stream-managed, resumable) with bob subscribed both ways and both available. */
async function pair(h: Harness) {
  h.subscribeBoth('alice', 'bob');
  const { c, enabled } = await smLogin(h, 'alice', 'phone');
  const bob = await h.login('bob', 'desk');
  await bob.send('<presence/>');
  await c.send('<presence/>');
  await c.send(`<a xmlns='${SM}' h='${sessionOf(h, ALICE).sm!.outN}'/>`);
  c.take();
  bob.take();
  return { c, bob, id: enabled.attrs.id as string };
}

describe('XEP-0198 §5 resumption', () => {
  it('a dropped connection leaves the session resumable; a resume brings it back with the same generation and the missed messages once', async () => {
    const h = makeHarness();
    const { c, bob, id } = await pair(h);
    const gen = h.deps.liveness.get(KEY)!.ref.generation;
    h.events.splice(0);
    c.end.destroy(); // the network goes (no </stream:stream>)
    await settle();
    const t = h.deps.clock.now();
    expect(h.deps.presence.get(KEY)).toMatchObject({ state: 'online', available: true, liveness: 'resumable', resumable_until: t + 300_000 });
    // Contacts see nothing: presence stays while resumable (ejabberd, Prosody).
    expect(bob.take()).toEqual([]);
    await bob.send(`<message to='${ALICE}' type='chat' id='x1'><body>while away 1</body></message>`);
    await bob.send(`<message to='alice@${DOMAIN}' type='chat' id='x2'><body>while away 2</body></message>`);
    expect(bob.take()).toEqual([]); // queued for alice, no error

    await h.advance(30_000);
    const { got } = await resumeOn(h, id, sessionOf(h, ALICE).sm!.ackedH);
    // h: the stanzas the server handled from alice (her initial presence).
    expect(got[0]).toMatchObject({ name: 'resumed', attrs: { xmlns: SM, previd: id, h: '1' } });
    expect(bodies(got)).toEqual(['while away 1', 'while away 2']);
    expect(child(got.find((e) => e.name === 'message') as XmlEl, 'delay', 'urn:xmpp:delay')?.attrs.from).toBe(DOMAIN);
    expect(names(got).at(-1)).toBe('r');
    const handle = h.deps.liveness.get(KEY)!;
    expect(handle.ref.generation).toBe(gen);
    expect(handle.state).toBe('active');
    expect(h.events.filter((e) => e.type === 'online' || e.type === 'offline')).toEqual([]);
    const feed = h.deps.presence.readFeed(0, 100);
    if (feed.kind !== 'ok') throw new Error('gone');
    expect(feed.entries.filter((e) => e.kind === 'liveness').map((e) => e.row.liveness)).toEqual(['resumable', 'active']);
    // Presence is not broadcast again on resumption.
    expect(bob.take()).toEqual([]);
    expect(h.deps.presence.get(KEY)?.resumable_until).toBeNull();
  });

  it('the client handled some before the drop: only the rest is resent; the session keeps its counters', async () => {
    const h = makeHarness();
    const { c, bob, id } = await pair(h);
    for (const n of [1, 2, 3]) await bob.send(`<message to='${ALICE}'><body>${n}</body></message>`);
    const sm = sessionOf(h, ALICE).sm!;
    const before = sm.outN;
    c.end.destroy();
    await settle();
    const { got } = await resumeOn(h, id, (before - 2) >>> 0);
    expect(bodies(got)).toEqual(['2', '3']);
    expect(sm.outN).toBe(before);
  });

  it('a resume while the old stream is open: the old one gets conflict, its later close does not end the session (the race)', async () => {
    const h = makeHarness();
    const { c: old, id } = await pair(h);
    const { c, got } = await resumeOn(h, id, sessionOf(h, ALICE).sm!.ackedH, '10.0.0.2');
    expect(got[0]?.name).toBe('resumed');
    expect(old.streamError()).toBe('conflict');
    old.end.destroy(); // the old socket's close arrives after the resume
    await settle();
    await h.advance(5_000);
    expect(h.deps.liveness.get(KEY)?.state).toBe('active');
    expect(h.events.some((e) => e.type === 'offline')).toBe(false);
    expect(h.deps.presence.get(KEY)?.meta.ip).toBe('10.0.0.2');
    await c.send(`<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>`);
    expect(c.take().find((e) => e.name === 'iq')?.attrs).toMatchObject({ type: 'result', id: 'p' });
  });

  it('the old connection closes after its session went resumable and was resumed: nothing is released twice', async () => {
    const h = makeHarness({ host: { xmpp: { max_connections_per_ip: 2 } } });
    const { c: old, id } = await pair(h); // alice and bob from 10.0.0.1: two
    old.end.end(); // the peer ends its side without </stream:stream>: resumable at once
    await settle();
    expect(h.deps.liveness.get(KEY)?.state).toBe('resumable');
    const { got } = await resumeOn(h, id, sessionOf(h, ALICE).sm!.ackedH, '10.0.0.9');
    expect(got[0]?.name).toBe('resumed');
    old.end.destroy();
    await settle();
    // 10.0.0.1 holds bob only now: one more from there is admitted, a second is not.
    const third = h.connect('10.0.0.1');
    await third.send(`<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${DOMAIN}' version='1.0'>`);
    expect(third.streamError()).toBeUndefined();
    const fourth = h.connect('10.0.0.1');
    await settle();
    expect(fourth.ended).toBe(true); // over every host's limit: refused before the header
  });

  it('a resumable session counts against max_connections_per_ip until it is resumed or ends', async () => {
    const h = makeHarness({ host: { xmpp: { max_connections_per_ip: 1 } } });
    const { c } = await smLogin(h, 'alice', 'phone');
    c.end.destroy();
    await settle();
    const next = h.connect();
    await settle();
    expect(next.ended).toBe(true); // refused before the header
    // Once it ends, the address is free again.
    h.deps.liveness.get(KEY)!.kill('kicked');
    const later = h.connect();
    await settle();
    expect(later.ended).toBe(false);
  });

  it('not resumed within resume_timeout: offline with resume_timeout, contacts get unavailable; a late resume gets <failed h/> and may bind', async () => {
    const h = makeHarness({ host: { xmpp: { resume_timeout: 60 } } });
    const { c, bob, id } = await pair(h);
    await c.send(`<presence/><presence/>`); // two more handled: h = 3 counting the first
    c.end.destroy();
    await settle();
    await h.advance(59_999);
    expect(h.deps.liveness.get(KEY)?.state).toBe('resumable');
    await h.advance(1);
    expect(h.events.find((e) => e.type === 'offline')).toMatchObject({ reason: 'resume_timeout' });
    expect(h.deps.presence.get(KEY)).toMatchObject({ state: 'offline', last_disconnect_reason: 'resume_timeout' });
    expect(bob.take().filter((p) => p.attrs.type === 'unavailable').map((p) => p.attrs.from)).toContain(ALICE);
    const { c: late, got } = await resumeOn(h, id, 0);
    expect(got[0]).toMatchObject({ name: 'failed', attrs: { h: '3' } });
    expect(child(got[0] as XmlEl, 'item-not-found')).toBeDefined();
    await late.send(`<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>phone</resource></bind></iq>`);
    expect(late.take()[0]?.attrs).toMatchObject({ type: 'result', id: 'b' });
  });

  it('unknown SM-IDs and those of another account get <failed><item-not-found/> without h', async () => {
    const h = makeHarness();
    await smLogin(h, 'bob', 'desk');
    const bobId = sessionOf(h, `bob@${DOMAIN}/desk`).sm!.id!;
    for (const previd of ['nope', bobId]) {
      const { c, got } = await resumeOn(h, previd, 0);
      expect(got).toHaveLength(1);
      expect(got[0]?.name).toBe('failed');
      expect(got[0]?.attrs.h).toBeUndefined();
      expect(child(got[0] as XmlEl, 'item-not-found')).toBeDefined();
      expect(c.ended).toBe(false);
    }
  });

  it('a resume after a server restart is refused cleanly (item-not-found) and the client binds anew', async () => {
    const before = makeHarness();
    const { id } = await pair(before);
    before.engine.shutdown();
    const after = makeHarness(); // a new process: no SM-ID survives
    const c = await after.authenticate('alice');
    c.take();
    await c.send(resume(id, 0));
    expect(child(c.take()[0] as XmlEl, 'item-not-found')).toBeDefined();
    await c.send(`<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>phone</resource></bind></iq>`);
    expect(c.take()[0]?.attrs.type).toBe('result');
  });

  it('shutdown ends resumable sessions too (system-shutdown for the open ones)', async () => {
    const h = makeHarness();
    const { c } = await smLogin(h, 'alice', 'phone');
    c.end.destroy();
    await settle();
    h.engine.shutdown();
    expect(h.events.find((e) => e.type === 'offline')).toMatchObject({ reason: 'shutdown' });
  });

  it('kick ends a resumable session (offline kicked), and a resume of it fails', async () => {
    const h = makeHarness();
    const { c, id } = await pair(h);
    c.end.destroy();
    await settle();
    h.deps.liveness.get(KEY)!.kill('kicked');
    expect(h.events.find((e) => e.type === 'offline')).toMatchObject({ reason: 'kicked' });
    expect((await resumeOn(h, id, 0)).got[0]?.name).toBe('failed');
  });

  it('a client that binds the same resource instead of resuming takes over; the queued messages reach it (resend_on_timeout if_offline)', async () => {
    const h = makeHarness({ host: { xmpp: { resend_on_timeout: 'if_offline' } } });
    const { c, bob } = await pair(h);
    c.end.destroy();
    await settle();
    await bob.send(`<message to='${ALICE}' id='q1'><body>queued</body></message>`);
    const again = await h.authenticate('alice');
    again.take();
    await again.send(`<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>phone</resource></bind></iq>`);
    const got = again.take();
    expect(got[0]?.attrs).toMatchObject({ type: 'result', id: 'b' }); // the bind result first
    expect(bodies(got)).toEqual(['queued']);
    expect(bob.take().filter((m) => m.attrs.type === 'error')).toEqual([]);
    expect(h.deps.presence.get(KEY)?.state).toBe('online');
  });

  it('resend_on_timeout false: the sender of an unacknowledged message gets service-unavailable; true: another resource gets it', async () => {
    for (const [mode, expectError] of [['false', true], ['true', false]] as const) {
      const h = makeHarness({ host: { xmpp: { resend_on_timeout: mode, resume_timeout: 10 } } });
      const { c, bob } = await pair(h);
      const laptop = await h.login('alice', 'laptop');
      await laptop.send('<presence/>');
      laptop.take();
      c.end.destroy();
      await settle();
      await bob.send(`<message to='${ALICE}' id='q1' type='chat'><body>lost?</body></message>`);
      await h.advance(10_000);
      const errors = bob.take().filter((m) => m.name === 'message' && m.attrs.type === 'error');
      expect(errors.map((e) => e.attrs.id)).toEqual(expectError ? ['q1'] : []);
      expect(bodies(laptop.take())).toEqual(expectError ? [] : ['lost?']);
    }
  });

  it('an h above what was sent on <resume/>: stream error undefined-condition, the session ends', async () => {
    const h = makeHarness();
    const { c: old, id } = await pair(h);
    old.end.destroy();
    await settle();
    const { c } = await resumeOn(h, id, 99);
    expect(c.streamError()).toBe('undefined-condition');
    expect(h.events.find((e) => e.type === 'offline')).toMatchObject({ reason: 'protocol_error' });
  });

  it('</stream:stream> ends the session at once: nothing to resume (§7)', async () => {
    const h = makeHarness();
    const { c, id } = await pair(h);
    await c.send('</stream:stream>');
    expect(h.events.find((e) => e.type === 'offline')).toMatchObject({ reason: 'client_close' });
    expect((await resumeOn(h, id, 0)).got[0]?.name).toBe('failed');
  });

  it('messages keep queueing while resumable; past max_ack_queue the session ends', async () => {
    const h = makeHarness({ host: { xmpp: { max_ack_queue: 2 } } });
    const { c, bob } = await pair(h);
    c.end.destroy();
    await settle();
    for (const n of [1, 2, 3]) await bob.send(`<message to='${ALICE}' id='m${n}' type='chat'><body>${n}</body></message>`);
    expect(h.events.find((e) => e.type === 'offline')).toMatchObject({ reason: 'protocol_error' });
    expect(bob.take().filter((m) => m.attrs.type === 'error').map((m) => m.attrs.id)).toEqual(['m1', 'm2', 'm3']);
  });
});
