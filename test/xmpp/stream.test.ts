/** Whole c2s streams over an in-memory duplex on manual time: IQ rules, ping, liveness, kill, limits. */
import { describe, expect, it } from 'vitest';
import { createLocalHostSettings } from '../../src/host-settings.js';
import { type XmlEl, child } from '../../src/xmpp/xml.js';
import { settle } from './duplex.js';
import { header, makeHarness } from './harness.js';
import { DOMAIN } from './rig.js';

const ALICE = `alice@${DOMAIN}/laptop`;
const cond = (el: XmlEl | undefined) => (el ? child(child(el, 'error') ?? el)?.name : undefined);

describe('IQ handling (RFC 6120 §8.2.3, §8.4; XEP-0199 §4.2; XEP-0030)', () => {
  it('answers client pings to the server, to the own bare JID and without `to`', async () => {
    const h = makeHarness();
    const c = await h.login('alice', 'laptop');
    for (const to of [` to='${DOMAIN}'`, ` to='alice@${DOMAIN}'`, '']) {
      await c.send(`<iq type='get' id='p1'${to}><ping xmlns='urn:xmpp:ping'/></iq>`);
      expect(c.take()).toEqual([{ name: 'iq', attrs: expect.objectContaining({ type: 'result', id: 'p1', to: ALICE }), children: [] }]);
    }
    // §4.4: a ping to another account's bare JID is answered by the server; no account, no answer (§7).
    await c.send(`<iq type='get' id='p2' to='bob@${DOMAIN}'><ping xmlns='urn:xmpp:ping'/></iq>`);
    expect(c.take()[0]?.attrs).toMatchObject({ type: 'result', from: `bob@${DOMAIN}` });
    await c.send(`<iq type='get' id='p3' to='nobody@${DOMAIN}'><ping xmlns='urn:xmpp:ping'/></iq>`);
    expect(cond(c.take()[0])).toBe('service-unavailable');
  });

  it('the answers to one read leave in one socket write, in order', async () => {
    const h = makeHarness();
    const c = await h.login('alice', 'laptop');
    let writes = 0;
    c.end.on('data', () => writes++);
    await c.send(['a', 'b', 'c'].map((id) => `<iq type='get' id='${id}'><ping xmlns='urn:xmpp:ping'/></iq>`).join(''));
    expect(c.take().map((r) => r.attrs.id)).toEqual(['a', 'b', 'c']);
    expect(writes).toBe(1);
  });

  it('answers every unknown get/set with exactly one service-unavailable error', async () => {
    const h = makeHarness();
    const c = await h.login('alice', 'laptop');
    await c.send(`<iq type='get' id='v1' to='${DOMAIN}'><vCard xmlns='vcard-temp'/></iq><iq type='set' id='v2'><foo xmlns='urn:x'/></iq>`);
    const replies = c.take();
    expect(replies.map((r) => [r.attrs.id, r.attrs.type, cond(r)])).toEqual([
      ['v1', 'error', 'service-unavailable'],
      ['v2', 'error', 'service-unavailable'],
    ]);
  });

  it('answers an IQ with no payload or two payloads with bad-request, and a bad `to` with jid-malformed', async () => {
    const h = makeHarness();
    const c = await h.login('alice', 'laptop');
    await c.send(`<iq type='get' id='e1'/><iq type='get' id='e2'><a xmlns='x'/><b xmlns='y'/></iq><iq type='get' id='e3' to='@bad'><ping xmlns='urn:xmpp:ping'/></iq>`);
    expect(c.take().map((r) => [r.attrs.id, cond(r)])).toEqual([
      ['e1', 'bad-request'],
      ['e2', 'bad-request'],
      ['e3', 'jid-malformed'],
    ]);
  });

  it('disco#info on the domain: identity server/im and ping; on the own bare JID: account/registered; items empty', async () => {
    const h = makeHarness();
    const c = await h.login('alice', 'laptop');
    await c.send(`<iq type='get' id='d1' to='${DOMAIN}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
    const [info] = c.take();
    const q = child(info as XmlEl, 'query') as XmlEl;
    expect(child(q, 'identity')?.attrs).toMatchObject({ category: 'server', type: 'im' });
    const features = q.children.filter((f): f is XmlEl => typeof f !== 'string' && f.name === 'feature').map((f) => f.attrs.var);
    expect(features).toEqual(expect.arrayContaining(['http://jabber.org/protocol/disco#info', 'http://jabber.org/protocol/disco#items', 'urn:xmpp:ping']));
    await c.send(`<iq type='get' id='d2' to='alice@${DOMAIN}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
    expect(child(child(c.take()[0] as XmlEl, 'query') as XmlEl, 'identity')?.attrs).toMatchObject({ category: 'account', type: 'registered' });
    await c.send(`<iq type='get' id='d3' to='${DOMAIN}'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`);
    const [items] = c.take();
    expect(items?.attrs.type).toBe('result');
    expect(child(items as XmlEl, 'query')?.children).toEqual([]);
    await c.send(`<iq type='get' id='d4' to='nobody@${DOMAIN}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
    expect(cond(c.take()[0])).toBe('service-unavailable');
  });

  it('answers the legacy <session/> with an empty result', async () => {
    const h = makeHarness();
    const c = await h.login('alice', 'laptop');
    await c.send(`<iq type='set' id='s1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>`);
    expect(c.take()).toEqual([{ name: 'iq', attrs: { type: 'result', id: 's1', to: ALICE }, children: [] }]);
  });

  it('stamps `from` on what a client sends and routes IQs between full JIDs', async () => {
    const h = makeHarness();
    const a = await h.login('alice', 'laptop');
    const b = await h.login('bob', 'phone');
    await a.send(`<iq type='get' id='x1' from='mallory@evil.example/x' to='bob@${DOMAIN}/phone'><query xmlns='jabber:iq:version'/></iq>`);
    const [got] = b.take();
    expect(got?.attrs).toMatchObject({ from: ALICE, to: `bob@${DOMAIN}/phone`, id: 'x1' });
    await a.send(`<iq type='get' id='x2' to='bob@${DOMAIN}/gone'><query xmlns='jabber:iq:version'/></iq>`);
    expect(cond(a.take()[0])).toBe('service-unavailable');
  });
});

describe('server pings through the liveness core (XEP-0199 §4.1, ejabberd mod_ping)', () => {
  const ping = { send_pings: true, ping_interval: 5, ping_ack_timeout: 3, timeout_action: 'kill' };

  it('pings after ping_interval of client silence; every client stanza restarts the timer', async () => {
    const h = makeHarness({ host: { ping } });
    const c = await h.login('alice', 'laptop');
    await h.advance(4_000);
    await c.send(`<presence/>`);
    c.take();
    await h.advance(4_999);
    expect(c.take()).toEqual([]);
    await h.advance(1);
    const [p] = c.take();
    expect(p?.attrs).toMatchObject({ type: 'get', from: DOMAIN, to: ALICE });
    expect(child(p as XmlEl, 'ping', 'urn:xmpp:ping')).toBeDefined();
  });

  it('a host settings change re-arms the idle timer: the next pings come at the new ping_interval', async () => {
    const h = makeHarness({ host: { ping } });
    const settings = createLocalHostSettings({ config: h.deps.config, overrides: h.deps.store.hostConfig, logger: h.deps.logger });
    settings.subscribe((host, s) => h.deps.liveness.setHostConfig(host, s));
    const c = await h.login('alice', 'laptop');
    await h.advance(1_000);
    await settings.change(DOMAIN, { ping_interval: 2 }, { persist: false });
    await h.advance(999); // 1.999 s since the client's last stanza (the bind)
    expect(c.take()).toEqual([]);
    await h.advance(1);
    const [p1] = c.take();
    expect(p1?.attrs.type).toBe('get');
    await c.send(`<iq type='result' id='${p1?.attrs.id}' to='${DOMAIN}'/>`);
    await h.advance(1_999);
    expect(c.take()).toEqual([]);
    await h.advance(1);
    expect(c.take().map((s) => s.attrs.type)).toEqual(['get']);
  });

  it('a pong keeps the session; no answer within ping_ack_timeout kills it with connection-timeout', async () => {
    const h = makeHarness({ host: { ping } });
    const c = await h.login('alice', 'laptop');
    await h.advance(5_000);
    const [p1] = c.take();
    await c.send(`<iq type='result' id='${p1?.attrs.id}' to='${DOMAIN}'/>`);
    await h.advance(4_999);
    expect(c.take()).toEqual([]);
    await h.advance(1);
    const [p2] = c.take();
    expect(p2?.attrs.type).toBe('get');
    await h.advance(2_999);
    expect(c.streamError()).toBeUndefined();
    await h.advance(1);
    expect(c.streamError()).toBe('connection-timeout');
    expect(c.closedStream()).toBe(true);
    expect(h.events.find((e) => e.type === 'offline')).toMatchObject({ reason: 'ping_timeout' });
  });

  it('an error reply is proof of life; service-unavailable stops pinging until the next stanza', async () => {
    const h = makeHarness({ host: { ping } });
    const c = await h.login('alice', 'laptop');
    await h.advance(5_000);
    const [p1] = c.take();
    await c.send(
      `<iq type='error' id='${p1?.attrs.id}' to='${DOMAIN}'><ping xmlns='urn:xmpp:ping'/><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
    );
    await h.advance(60_000);
    expect(c.take()).toEqual([]);
    expect(c.streamError()).toBeUndefined();
    await c.send(`<presence/>`);
    c.take();
    await h.advance(5_000);
    const [p2] = c.take();
    await c.send(`<iq type='error' id='${p2?.attrs.id}'><ping xmlns='urn:xmpp:ping'/><error type='cancel'><feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`);
    await h.advance(5_000);
    expect(c.take().map((s) => s.attrs.type)).toEqual(['get']);
  });

  it('REST ping-now (handle.probeNow) sends a ping and resolves with the round trip', async () => {
    const h = makeHarness();
    const c = await h.login('alice', 'laptop');
    const pending = h.deps.liveness.get({ host: DOMAIN, transport: 'xmpp', id: ALICE })?.probeNow();
    await settle();
    const [p] = c.take();
    expect(child(p as XmlEl, 'ping', 'urn:xmpp:ping')).toBeDefined();
    await h.advance(40);
    await c.send(`<iq type='result' id='${p?.attrs.id}' to='${DOMAIN}'/>`);
    await expect(pending).resolves.toEqual({ kind: 'answered', rttMs: 40 });
  });

  it('timeout_action none: ping_timeout event, the stream stays', async () => {
    const h = makeHarness({ host: { ping: { ...ping, timeout_action: 'none' } } });
    const c = await h.login('alice', 'laptop');
    await h.advance(8_000);
    expect(h.events.some((e) => e.type === 'ping_timeout')).toBe(true);
    expect(c.streamError()).toBeUndefined();
  });

  it('kick through the liveness handle closes with policy-violation; shutdown with system-shutdown', async () => {
    const h = makeHarness();
    const a = await h.login('alice', 'laptop');
    const b = await h.login('bob', 'phone');
    h.deps.liveness.get({ host: DOMAIN, transport: 'xmpp', id: ALICE })?.kill('kicked');
    await settle();
    expect(a.streamError()).toBe('policy-violation');
    h.engine.shutdown();
    await settle();
    expect(b.streamError()).toBe('system-shutdown');
    const reasons = h.events.flatMap((e) => (e.type === 'offline' ? [e.reason] : []));
    expect(reasons).toEqual(['kicked', 'shutdown']);
  });
});

describe('sessions', () => {
  it('a second bind of the same full JID kicks the old session with conflict', async () => {
    const h = makeHarness();
    const old = await h.login('alice', 'laptop');
    await h.login('alice', 'laptop');
    expect(old.streamError()).toBe('conflict');
    expect(h.engine.router.size()).toBe(1);
    expect(h.deps.liveness.get({ host: DOMAIN, transport: 'xmpp', id: ALICE })?.live).toBe(true);
  });

  it('</stream:stream> closes with client_close; losing the socket is socket_error', async () => {
    const h = makeHarness();
    const a = await h.login('alice', 'laptop');
    const b = await h.login('bob', 'phone');
    await a.send('</stream:stream>');
    expect(a.closedStream()).toBe(true);
    b.end.destroy();
    await settle();
    expect(h.events.flatMap((e) => (e.type === 'offline' ? [e.reason] : []))).toEqual(['client_close', 'socket_error']);
    expect(h.engine.router.size()).toBe(0);
  });

  it('shows the address, TLS and SASL mechanism in the presence table meta', async () => {
    const h = makeHarness();
    await h.login('alice', 'laptop');
    expect(h.deps.presence.get({ host: DOMAIN, transport: 'xmpp', id: ALICE })?.meta).toMatchObject({
      ip: '10.0.0.1',
      tls: false,
      sasl_mechanism: 'PLAIN',
      resource: 'laptop',
    });
  });

  it('an internal failure while handling a stanza ends that connection only (internal-server-error)', async () => {
    const h = makeHarness();
    const a = await h.login('alice', 'laptop');
    const b = await h.login('bob', 'phone');
    const rosters = h.deps.store.rosters;
    const list = rosters.list.bind(rosters);
    rosters.list = (host, user) => {
      if (user === 'alice') throw new Error('disk on fire');
      return list(host, user);
    };
    await a.send('<presence/>');
    expect(a.streamError()).toBe('internal-server-error');
    await b.send('<presence/>');
    expect(b.streamError()).toBeUndefined();
    expect(b.take().map((s) => s.attrs.from)).toEqual([`bob@${DOMAIN}/phone`]);
  });

  it('a server-generated resource when the client asks for none', async () => {
    const h = makeHarness();
    const c = h.connect();
    await c.send(header());
    await c.sendSasl(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\u0000alice\u0000secret').toString('base64')}</auth>`);
    c.restart();
    await c.send(header());
    await c.send(`<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>`);
    const jid = child(child(c.stanzas().at(-1) as XmlEl, 'bind') as XmlEl, 'jid');
    expect(jid?.children[0]).toMatch(/^alice@example\.org\/vigil-/);
  });
});

describe('limits and bad input end only that connection', () => {
  it.each([
    ['policy-violation', `<message to='bob@${DOMAIN}'><body>${'x'.repeat(3000)}</body></message>`],
    ['restricted-xml', `<!DOCTYPE x>`],
    ['not-well-formed', `<message><body></message>`],
  ])('%s', async (condition, bad) => {
    const h = makeHarness({ host: { xmpp: { max_stanza_size: 2048 } } });
    const a = await h.login('alice', 'laptop');
    const b = await h.login('bob', 'phone');
    await a.send(bad);
    expect(a.streamError()).toBe(condition);
    expect(b.streamError()).toBeUndefined();
    await b.send(`<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>`);
    expect(b.take().at(-1)?.attrs.type).toBe('result');
    expect(h.events.find((e) => e.type === 'offline')).toMatchObject({ reason: 'protocol_error' });
  });

  it('a handshake that does not finish within handshake_timeout is closed', async () => {
    const h = makeHarness({ host: { xmpp: { handshake_timeout: 10 } } });
    const c = h.connect();
    await c.send(header());
    await h.advance(9_999);
    expect(c.streamError()).toBeUndefined();
    await h.advance(1);
    expect(c.streamError()).toBe('connection-timeout');
  });

  it('max_connections_per_ip: the header\'s host limit gives policy-violation; over every host\'s limit the socket is refused at once', async () => {
    const h = makeHarness({ host: { xmpp: { max_connections_per_ip: 2 } }, hosts: { 'other.example': { xmpp: { max_connections_per_ip: 3 } } } });
    const [one, two, three] = [h.connect('10.1.1.1'), h.connect('10.1.1.1'), h.connect('10.1.1.1')];
    const other = h.connect('10.9.9.9');
    for (const c of [one, two, three, other]) await c.send(header());
    expect([one, two, three, other].map((c) => c.streamError())).toEqual([undefined, undefined, 'policy-violation', undefined]);
    await h.advance(1_000); // close grace: the refused socket is gone
    const four = h.connect('10.1.1.1');
    await settle();
    const five = h.connect('10.1.1.1');
    await settle();
    expect([four.ended, five.ended]).toEqual([false, true]);
    one.end.destroy();
    await settle();
    const six = h.connect('10.1.1.1');
    await six.send(header('other.example'));
    expect(six.streamError()).toBeUndefined();
  });

  it('a stream error before any header still comes inside a stream header (§4.9.1.2)', async () => {
    const h = makeHarness();
    const c = h.connect();
    await settle();
    h.engine.shutdown();
    await settle();
    expect(c.events[0]).toMatchObject({ type: 'open', attrs: { from: DOMAIN } });
    expect(c.streamError()).toBe('system-shutdown');
  });

  it('an unknown host in the header gets host-unknown', async () => {
    const h = makeHarness();
    const c = h.connect();
    await c.send(header('nowhere.example'));
    expect(c.streamError()).toBe('host-unknown');
  });
});
