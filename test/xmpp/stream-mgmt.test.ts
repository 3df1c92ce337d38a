/**
 * XEP-0198 stream management on a live stream, over the in-memory duplex on manual time:
 * enabling (§3), acks and their counters modulo 2^32 (§4), errors (§6), <r/> as the liveness
 * probe with ack_timeout (ejabberd 24.02), and the unacknowledged queue's bound (max_ack_queue).
 */
import { describe, expect, it } from 'vitest';
import { type XmlEl, child } from '../../src/xmpp/xml.js';
import { makeHarness } from './harness.js';
import { DOMAIN } from './rig.js';
import { enable, names, sessionOf, smLogin } from './sm-helpers.js';

const SM = 'urn:xmpp:sm:3';
const ALICE = `alice@${DOMAIN}/phone`;

describe('XEP-0198 enabling (§2, §3)', () => {
  it('offers sm:3 and csi:0 after authentication and lists them in disco#info; none of it with stream_management off', async () => {
    const h = makeHarness();
    const c = await h.authenticate('alice');
    const features = c.stanzas().at(-1) as XmlEl;
    expect(child(features, 'sm', SM)).toBeDefined();
    expect(child(features, 'csi', 'urn:xmpp:csi:0')).toBeDefined();
    const a = await h.login('alice', 'laptop');
    await a.send(`<iq type='get' id='d1' to='${DOMAIN}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
    const vars = (child(a.take()[0] as XmlEl, 'query') as XmlEl).children.filter((f): f is XmlEl => typeof f !== 'string' && f.name === 'feature').map((f) => f.attrs.var);
    expect(vars).toEqual(expect.arrayContaining([SM, 'urn:xmpp:csi:0']));

    const off = makeHarness({ host: { xmpp: { stream_management: false } } });
    const o = await off.authenticate('alice');
    expect(child(o.stanzas().at(-1) as XmlEl, 'sm', SM)).toBeUndefined();
    const b = await off.login('alice', 'laptop');
    await b.send(enable());
    expect(b.take()[0]).toMatchObject({ name: 'failed', attrs: { xmlns: SM } });
    expect(b.raw).toContain('<feature-not-implemented');
  });

  it('<enable resume/> gets an SM-ID and resume_timeout; max is capped at max_resume_timeout; no resume, no ID', async () => {
    const h = makeHarness({ host: { xmpp: { max_resume_timeout: 3600 } } });
    const { enabled } = await smLogin(h, 'alice', 'phone');
    expect(enabled.attrs).toMatchObject({ xmlns: SM, resume: 'true', max: '300' });
    expect(enabled.attrs.id).toMatch(/^sm-/);
    const asks = await h.login('alice', 'tablet');
    await asks.send(enable(true, " max='86400'"));
    expect(asks.take()[0]?.attrs.max).toBe('3600');
    const acks = await h.login('alice', 'laptop');
    await acks.send(enable(false));
    expect(acks.take()[0]?.attrs).toEqual({ xmlns: SM });
    const row = h.deps.presence.get({ host: DOMAIN, transport: 'xmpp', id: ALICE });
    expect(row?.meta.sm_state).toBe('resumption');
    expect(h.deps.presence.get({ host: DOMAIN, transport: 'xmpp', id: `alice@${DOMAIN}/laptop` })?.meta.sm_state).toBe('acks');
  });

  it('a second <enable/>, and <r/> or <a/> before enabling, get <failed><unexpected-request/>; the stream stays', async () => {
    const h = makeHarness();
    const c = await h.login('alice', 'phone');
    await c.send(`<r xmlns='${SM}'/><a xmlns='${SM}' h='0'/>`);
    expect(names(c.take())).toEqual(['failed', 'failed']);
    await c.send(enable());
    await c.send(enable());
    const [, again] = c.take();
    expect(again?.name).toBe('failed');
    expect(child(again as XmlEl, 'unexpected-request')).toBeDefined();
    expect(c.ended).toBe(false);
  });
});

describe('XEP-0198 acks (§4, §6)', () => {
  it('counts handled stanzas: <r/> is answered with h; each stanza to the client is followed by one <r/> until acked', async () => {
    const h = makeHarness();
    const { c } = await smLogin(h, 'alice', 'phone');
    const { c: bob } = await smLogin(h, 'bob', 'desk');
    await c.send(`<presence/><iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq><r xmlns='${SM}'/>`);
    const got = c.take();
    // own presence echoed, ping result, then one <r/> at the end of the write, and the <a/> for our <r/>.
    expect(names(got)).toEqual(['presence', 'iq', 'a', 'r']);
    expect(got[2]?.attrs.h).toBe('2');
    await c.send(`<a xmlns='${SM}' h='2'/>`);
    expect(sessionOf(h, ALICE).sm?.queued).toBe(0);
    // Messages from elsewhere: the first is followed by <r/>, the next waits for the <a/>.
    await bob.send(`<message to='${ALICE}' type='chat'><body>1</body></message>`);
    await bob.send(`<message to='${ALICE}' type='chat'><body>2</body></message>`);
    expect(names(c.take())).toEqual(['message', 'r', 'message']);
    // An <a/> covering only the first: more went out since the request, so the server asks again (ejabberd).
    await c.send(`<a xmlns='${SM}' h='3'/>`);
    expect(names(c.take())).toEqual(['r']);
    await c.send(`<a xmlns='${SM}' h='4'/>`);
    expect(c.take()).toEqual([]);
    expect(sessionOf(h, ALICE).sm).toMatchObject({ outN: 4, ackedH: 4, queued: 0 });
  });

  it('acknowledging more than was sent: stream error undefined-condition with <handled-count-too-high/> and text (§6)', async () => {
    const h = makeHarness();
    const { c } = await smLogin(h, 'alice', 'phone');
    await c.send(`<a xmlns='${SM}' h='5'/>`);
    const err = c.stanzas().find((s) => s.name === 'stream:error') as XmlEl;
    expect(c.streamError()).toBe('undefined-condition');
    expect(child(err, 'handled-count-too-high', SM)?.attrs).toMatchObject({ h: '5', 'send-count': '0' });
    expect(c.raw).toContain('You acknowledged 5 stanzas, but I only sent you 0 so far.');
    expect(h.events.find((e) => e.type === 'offline')).toMatchObject({ reason: 'protocol_error' });
    await c.send('');
    expect(c.closedStream()).toBe(true);
  });

  it('a bad h is <failed><bad-request/> and changes nothing', async () => {
    const h = makeHarness();
    const { c } = await smLogin(h, 'alice', 'phone');
    await c.send(`<a xmlns='${SM}' h='4294967296'/><a xmlns='${SM}' h='x'/>`);
    expect(c.take().map((f) => child(f)?.name)).toEqual(['bad-request', 'bad-request']);
    expect(c.ended).toBe(false);
  });

  it('counters wrap from 2^32 - 1 to 0 in both directions', async () => {
    const h = makeHarness();
    const { c } = await smLogin(h, 'alice', 'phone');
    const { c: bob } = await smLogin(h, 'bob', 'desk');
    const sm = sessionOf(h, ALICE).sm!;
    sm.inH = 0xffff_ffff;
    sm.outN = 0xffff_fffe;
    sm.ackedH = 0xffff_fffe;
    await c.send(`<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq><r xmlns='${SM}'/>`);
    expect(c.take().find((e) => e.name === 'a')?.attrs.h).toBe('0');
    for (const n of [1, 2]) await bob.send(`<message to='${ALICE}'><body>${n}</body></message>`);
    // The ping result was 2^32 - 1, the two messages 0 and 1: h = 1 acknowledges all three.
    expect(sm.outN).toBe(1);
    expect(sm.queued).toBe(3);
    await c.send(`<a xmlns='${SM}' h='1'/>`);
    expect(sm).toMatchObject({ ackedH: 1, queued: 0 });
    expect(c.ended).toBe(false);
    // And one too many across the wrap is still too many.
    await c.send(`<a xmlns='${SM}' h='2'/>`);
    expect(c.streamError()).toBe('undefined-condition');
  });
});

describe('liveness with stream management (ejabberd 24.02: <r/> instead of an IQ ping)', () => {
  const PING = { ping: { send_pings: true, ping_interval: 60, ping_ack_timeout: 10, timeout_action: 'kill' }, xmpp: { ack_timeout: 30 } };

  it('the probe is <r/>; the <a/> answers it and records the round trip; a stanza is proof of life too', async () => {
    const h = makeHarness({ host: PING });
    const { c } = await smLogin(h, 'alice', 'phone');
    await h.advance(60_000);
    expect(c.take()).toEqual([{ name: 'r', attrs: { xmlns: SM }, children: [] }]);
    const handle = sessionOf(h, ALICE).handle!;
    expect(handle.state).toBe('probing');
    await h.advance(120);
    await c.send(`<a xmlns='${SM}' h='0'/>`);
    expect(handle.state).toBe('active');
    expect(handle.lastRttMs).toBe(120);
    await h.advance(60_000);
    expect(names(c.take())).toEqual(['r']);
    await c.send('<presence/>');
    expect(handle.state).toBe('active');
  });

  it('no <a/> within ack_timeout (not ping_ack_timeout): the socket is dropped without a word and the session is resumable', async () => {
    const h = makeHarness({ host: PING });
    const { c } = await smLogin(h, 'alice', 'phone');
    const handle = sessionOf(h, ALICE).handle!;
    await h.advance(60_000 + 10_000);
    expect(handle.state).toBe('probing');
    await h.advance(20_000);
    expect(c.ended).toBe(true);
    expect(c.stanzas().some((s) => s.name === 'stream:error')).toBe(false);
    expect(handle.state).toBe('resumable');
    expect(handle.live).toBe(true);
    expect(h.events.map((e) => e.type)).toContain('killed');
    expect(h.events.some((e) => e.type === 'offline')).toBe(false);
  });

  it('without resumption a ping timeout ends the session as before (connection-timeout)', async () => {
    const h = makeHarness({ host: PING });
    const { c } = await smLogin(h, 'alice', 'phone', false);
    await h.advance(90_000);
    expect(c.streamError()).toBe('connection-timeout');
    expect(h.events.find((e) => e.type === 'offline')).toMatchObject({ reason: 'ping_timeout' });
  });

  it('a runtime change of ack_timeout applies to the next probe of a stream-managed session', async () => {
    const h = makeHarness({ host: PING });
    await smLogin(h, 'alice', 'phone');
    await h.deps.hostSettings.change(DOMAIN, { ack_timeout: 5 }, { persist: false });
    await h.advance(60_000);
    const handle = sessionOf(h, ALICE).handle!;
    expect(handle.nextDeadlineAt()).toBe(h.deps.clock.now() + 5_000);
  });
});

describe('max_ack_queue (ejabberd: policy-violation "Too many unacked stanzas")', () => {
  it('one stanza past the limit closes the stream, counts the limit, ends the session and bounces what was not acknowledged', async () => {
    const h = makeHarness({ host: { xmpp: { max_ack_queue: 3 } } });
    const { c } = await smLogin(h, 'alice', 'phone');
    const bob = await h.login('bob', 'desk');
    for (let i = 1; i <= 4; i++) await bob.send(`<message to='${ALICE}' id='m${i}' type='chat'><body>${i}</body></message>`);
    expect(c.streamError()).toBe('policy-violation');
    expect(c.raw).toContain('too many unacknowledged stanzas');
    expect(h.events.find((e) => e.type === 'offline')).toMatchObject({ reason: 'protocol_error' });
    const metrics = await h.deps.metrics.registry.metrics();
    expect(metrics).toMatch(/vigil_xmpp_limit_hits_total\{limit="max_ack_queue"\} 1/);
    // The four were never acknowledged: each comes back to bob as service-unavailable (never resent after an overflow).
    const errors = bob.take().filter((s) => s.name === 'message' && s.attrs.type === 'error');
    expect(errors.map((e) => e.attrs.id)).toEqual(['m1', 'm2', 'm3', 'm4']);
  });
});
