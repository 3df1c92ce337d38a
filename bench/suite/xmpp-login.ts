/**
 * The login the benches' raw XMPP clients share: stream header, SASL PLAIN on a plain stream (the
 * bench hosts allow it), stream restart (RFC 6120 §6.4.6). What follows (bind, resume) is each
 * client's own.
 */
import type { Socket } from 'node:net';
import { createXmlStreamParser } from '../../src/xmpp/xml-stream.js';

export const streamHeader = (domain: string): string =>
  `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${domain}' version='1.0'>`;

type Parser = ReturnType<typeof createXmlStreamParser>;
type El = { name: string };

/**
 * Steps 0 (features: send PLAIN) and 1 (success: restart the stream) of a login; returns the next
 * step, or `step` unchanged when `el` is not one of them. Step 2: the restarted stream's features
 * are next.
 */
export function plainLoginStep(step: number, el: El, sock: Socket, parser: Parser, domain: string, user: string, password: string): number {
  if (step === 0 && el.name === 'stream:features') {
    sock.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\u0000${user}\u0000${password}`).toString('base64')}</auth>`);
    return 1;
  }
  if (step === 1 && el.name === 'success') {
    parser.reset();
    sock.write(streamHeader(domain));
    return 2;
  }
  return step;
}

export const newParser = (): Parser => createXmlStreamParser({ maxStanzaBytes: 1 << 20 });
