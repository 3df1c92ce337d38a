/**
 * STARTTLS on a real socket (port 0): TLS is required before SASL, a broken TLS handshake ends only
 * that connection, and the upgraded stream restarts cleanly (RFC 6120 §5.4.3.3).
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createXmppListener, type XmppListener } from '../../src/xmpp/listener.js';
import { createXmlStreamParser, type StreamEvent } from '../../src/xmpp/xml-stream.js';
import { DOMAIN, makeRig } from './rig.js';
import { until } from '../support/until.js';
import { header } from './harness.js';

let svc: XmppListener;
let port = 0;

beforeAll(async () => {
  svc = createXmppListener(makeRig({ realTime: true }).deps);
  await svc.start();
  port = svc.address()?.port ?? 0;
});
afterAll(async () => svc.stop());

/** A raw client: collects parsed events; `next(pred)` waits for a matching one. */
function raw(sock: Socket) {
  let parser = createXmlStreamParser({ maxStanzaBytes: 1 << 20 });
  const events: StreamEvent[] = [];
  const waiters: Array<() => void> = [];
  const feed = (s: Socket) =>
    s.on('data', (d: Buffer) => {
      events.push(...parser.write(d));
      for (const w of waiters.splice(0)) w();
    });
  feed(sock);
  return {
    events,
    feed,
    reset: () => {
      parser = createXmlStreamParser({ maxStanzaBytes: 1 << 20 });
    },
    async next(pred: (e: StreamEvent) => boolean, from = 0): Promise<StreamEvent> {
      for (;;) {
        const hit = events.slice(from).find(pred);
        if (hit) return hit;
        await new Promise<void>((r) => waiters.push(r));
      }
    },
  };
}

const stanza = (name: string) => (e: StreamEvent) => e.type === 'stanza' && e.el.name === name;

describe('STARTTLS on a real socket', () => {
  it('requires TLS before SASL, upgrades on the same socket and restarts the stream', async () => {
    const sock = tcpConnect(port, '127.0.0.1');
    const c = raw(sock);
    sock.write(header());
    const features = await c.next(stanza('stream:features'));
    expect(features.type === 'stanza' && features.el.children.map((ch) => (typeof ch === 'string' ? ch : ch.name))).toEqual(['starttls']);
    sock.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\u0000alice\u0000secret').toString('base64')}</auth>`);
    const failure = await c.next(stanza('failure'));
    expect(failure.type === 'stanza' && failure.el.children[0]).toMatchObject({ name: 'encryption-required' });
    sock.write(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`);
    await c.next(stanza('proceed'));
    const secure = tlsConnect({ socket: sock, servername: DOMAIN, rejectUnauthorized: false });
    await new Promise((r) => secure.once('secureConnect', r));
    c.reset();
    const s = raw(secure);
    secure.write(header());
    const f2 = await s.next(stanza('stream:features'));
    const mechs = f2.type === 'stanza' ? f2.el.children.find((ch) => typeof ch !== 'string' && ch.name === 'mechanisms') : undefined;
    expect(typeof mechs === 'object' && mechs.children.map((m) => (typeof m === 'string' ? m : m.children[0]))).toEqual(['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN']);
    secure.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\u0000alice\u0000secret').toString('base64')}</auth>`);
    await s.next(stanza('success'));
    secure.destroy();
  });

  it('a broken TLS handshake ends that connection only', async () => {
    const sock = tcpConnect(port, '127.0.0.1');
    const c = raw(sock);
    sock.write(header());
    await c.next(stanza('stream:features'));
    sock.write(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`);
    await c.next(stanza('proceed'));
    expect(svc.engine.connections()).toHaveLength(1);
    sock.write('this is not a TLS ClientHello\r\n\r\n');
    await new Promise((r) => sock.once('close', r));
    await until(() => svc.engine.connections().length === 0, { capMs: 5_000, everyMs: 10, what: 'the broken connection to end' });
    const other = tcpConnect(port, '127.0.0.1');
    const o = raw(other);
    other.write(header());
    const features = await o.next(stanza('stream:features'));
    expect(features.type === 'stanza' && features.el.children.map((ch) => (typeof ch === 'string' ? ch : ch.name))).toEqual(['starttls']);
    expect(svc.engine.connections()).toHaveLength(1);
    other.destroy();
  });
});
