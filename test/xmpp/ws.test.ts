/**
 * XMPP over WebSocket (RFC 7395) at stanza level: the engine behind a WsConnection
 * (src/transport/ws-connection.ts) with XMPP's framing (src/xmpp/ws-framing.ts), over an
 * in-memory WebSocket, on manual time. Every server message is parsed on its own, as a client
 * does (each must be a complete XML document), and `xmpp_probe: ws_ping`.
 */
import { describe, expect, it } from 'vitest';
import { WsConnection } from '../../src/transport/ws-connection.js';
import { NS_FRAMING, xmppWsFraming } from '../../src/xmpp/ws-framing.js';
import { createXmlStreamParser } from '../../src/xmpp/xml-stream.js';
import { type XmlEl, child, text } from '../../src/xmpp/xml.js';
import { MemoryWebSocket } from '../support/duplex-pair.js';
import { until } from '../support/until.js';
import { settle } from './duplex.js';
import { type Harness, makeHarness } from './harness.js';
import { DOMAIN } from './rig.js';

const OPEN = `<open xmlns='${NS_FRAMING}' to='${DOMAIN}' version='1.0'/>`;
const PLAIN = (user: string, pw: string) => `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\u0000${user}\u0000${pw}`).toString('base64')}</auth>`;

class WsClient {
  readonly ws = new MemoryWebSocket();
  constructor(h: Harness, via: 'ws' | 'wss' = 'ws') {
    h.engine.accept(new WsConnection(this.ws, via, '10.0.0.8', xmppWsFraming(65_536), null), '10.0.0.8');
  }
  /** Every server message as an element; each must be exactly one complete element, with no namespace from outside it. */
  messages(): XmlEl[] {
    return this.ws.texts().map((t) => {
      const events = createXmlStreamParser({ maxStanzaBytes: 1_000_000 }).write(`<doc>${t}`);
      expect(events.map((e) => e.type)).toEqual(['open', 'stanza']);
      return (events[1] as { el: XmlEl }).el;
    });
  }
  names(): string[] {
    return this.messages().map((m) => m.name);
  }
  async send(xml: string): Promise<void> {
    this.ws.fromClient(xml);
    await settle();
  }
  async login(user = 'alice', pw = 'secret', resource = 'web'): Promise<void> {
    if (this.ws.sent.length === 0) await this.send(OPEN);
    const before = this.ws.sent.length;
    this.ws.fromClient(PLAIN(user, pw));
    await until(() => this.ws.sent.length > before, { what: 'the SASL answer' });
    expect(this.names().at(-1)).toBe('success');
    await this.send(OPEN); // a stream restart is a new <open/> (RFC 7395 §3.3.2)
    await this.send(`<iq xmlns='jabber:client' type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`);
    expect(this.messages().at(-1)?.attrs).toMatchObject({ xmlns: 'jabber:client', type: 'result', id: 'b1' });
  }
}

describe('XMPP over WebSocket framing (RFC 7395)', () => {
  it('negotiates with <open/>: one element per message, each with its namespaces; no STARTTLS; the row says ws', async () => {
    const h = makeHarness();
    const c = new WsClient(h);
    await c.send(OPEN);
    const [open, features] = c.messages();
    expect(open?.name).toBe('open');
    expect(open?.attrs).toMatchObject({ xmlns: NS_FRAMING, from: DOMAIN, version: '1.0' });
    expect(features?.name).toBe('stream:features');
    expect(features?.attrs['xmlns:stream']).toBe('http://etherx.jabber.org/streams');
    expect(child(features!, 'starttls')).toBeUndefined();
    await c.login();
    expect(c.names().filter((n) => n === 'open')).toHaveLength(2);
    expect(h.deps.presence.get({ host: DOMAIN, transport: 'xmpp', id: `alice@${DOMAIN}/web` })).toMatchObject({ via: 'ws', meta: expect.objectContaining({ via: 'ws', tls: false }) });
  });

  it('a message with two stanzas ends the stream with not-well-formed and <close/>, then the WebSocket closes', async () => {
    const h = makeHarness();
    const c = new WsClient(h);
    await c.login();
    await c.send("<presence xmlns='jabber:client'/><presence xmlns='jabber:client'/>");
    const last = c.messages().slice(-2);
    expect(last[0]?.name).toBe('stream:error');
    expect(child(last[0]!, 'not-well-formed')).toBeDefined();
    expect(last[1]?.name).toBe('close');
    expect(c.ws.closed?.code).toBe(1008);
    await settle();
    expect(h.deps.presence.get({ host: DOMAIN, transport: 'xmpp', id: `alice@${DOMAIN}/web` })?.last_disconnect_reason).toBe('protocol_error');
  });

  it('a binary message closes with 1003 (text frames only)', async () => {
    const h = makeHarness();
    const c = new WsClient(h);
    c.ws.fromClient(Buffer.from(OPEN), true);
    await settle();
    expect(c.ws.closed?.code).toBe(1003);
  });

  it('the client\'s <close/> is answered with <close/> and ends the session as client_close', async () => {
    const h = makeHarness();
    const c = new WsClient(h);
    await c.login();
    await c.send(`<close xmlns='${NS_FRAMING}'/>`);
    expect(c.names().at(-1)).toBe('close');
    await settle();
    expect(h.deps.presence.get({ host: DOMAIN, transport: 'xmpp', id: `alice@${DOMAIN}/web` })).toMatchObject({ state: 'offline', last_disconnect_reason: 'client_close' });
  });

  it('over wss the stream is secure from its first byte: tls required, PLAIN offered, no STARTTLS', async () => {
    const h = makeHarness({ host: { xmpp: { tls: 'required', allow_plaintext_auth: false } } });
    const c = new WsClient(h, 'wss');
    await c.send(OPEN);
    const mechs = child(c.messages()[1]!, 'mechanisms')?.children.map((m) => text(m as XmlEl));
    expect(mechs).toContain('PLAIN');
    await c.login();
    expect(h.deps.presence.get({ host: DOMAIN, transport: 'xmpp', id: `alice@${DOMAIN}/web` })).toMatchObject({ via: 'wss', meta: expect.objectContaining({ tls: true }) });
    const plain = new WsClient(h, 'ws');
    await plain.send(OPEN);
    await plain.send(PLAIN('alice', 'secret'));
    await h.advance(16_000); // the failed-auth delay
    expect(child(plain.messages().at(-1)!, 'encryption-required')).toBeDefined();
  });
});

describe('xmpp_probe: ws_ping', () => {
  it('a silent WebSocket client gets a WebSocket Ping at ping_interval, connection-timeout at + ping_ack_timeout; TCP clients keep the IQ ping', async () => {
    const h = makeHarness({ host: { ping: { ping_interval: 30, ping_ack_timeout: 10 }, xmpp_probe: 'ws_ping' } });
    const c = new WsClient(h);
    c.ws.autoPong = false;
    await c.login();
    const tcp = await h.login('bob', 'phone');
    const sent = c.ws.sent.length;
    await h.advance(29_999);
    expect(c.ws.pings).toBe(0);
    await h.advance(1);
    expect(c.ws.pings).toBe(1);
    expect(c.ws.sent.length).toBe(sent); // no IQ ping over the WebSocket
    expect(tcp.take().filter((s) => s.name === 'iq' && s.attrs.type === 'get')).toHaveLength(1);
    await h.advance(9_999);
    expect(c.ws.closed).toBeNull();
    await h.advance(1);
    expect(child(c.messages().at(-2)!, 'connection-timeout')).toBeDefined();
    expect(h.deps.presence.get({ host: DOMAIN, transport: 'xmpp', id: `alice@${DOMAIN}/web` })).toMatchObject({ state: 'offline', last_disconnect_reason: 'ping_timeout' });
  });

  it('the Pong is the answer: active again, the round trip in last_rtt_ms', async () => {
    const h = makeHarness({ host: { ping: { ping_interval: 30, ping_ack_timeout: 10 }, xmpp_probe: 'ws_ping' } });
    const c = new WsClient(h);
    c.ws.autoPong = false;
    await c.login();
    await h.advance(30_000);
    await h.advance(25);
    c.ws.pong();
    await settle();
    expect(h.deps.presence.get({ host: DOMAIN, transport: 'xmpp', id: `alice@${DOMAIN}/web` })).toMatchObject({ liveness: 'active', last_rtt_ms: 25 });
  });
});
