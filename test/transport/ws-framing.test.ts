/**
 * The two WebSocket framings as pure functions: MQTT's one packet per message on the way out
 * (src/mqtt/ws-framing.ts), XMPP's RFC 7395 translation both ways (src/xmpp/ws-framing.ts).
 */
import { generate } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { splitPackets } from '../../src/mqtt/ws-framing.js';
import { NS_FRAMING, topLevelElements, xmppWsFraming } from '../../src/xmpp/ws-framing.js';

const FRAMING = `xmlns='${NS_FRAMING}'`;

describe('MQTT over WebSocket: one packet per message', () => {
  it('cuts what one flush joined back into its packets, a long Remaining Length too', () => {
    const packets = [
      generate({ cmd: 'connack', sessionPresent: false, returnCode: 0 }),
      generate({ cmd: 'publish', topic: 't/1', payload: Buffer.alloc(300, 7), qos: 1, messageId: 5, retain: false, dup: false }),
      generate({ cmd: 'pingresp' }),
      generate({ cmd: 'publish', topic: 't/2', payload: Buffer.alloc(20_000, 1), qos: 0, retain: false, dup: false }),
    ];
    const out: Buffer[] = [];
    splitPackets(Buffer.concat(packets), (m) => out.push(m));
    expect(out).toEqual(packets);
    const one: Buffer[] = [];
    splitPackets(packets[2]!, (m) => one.push(m));
    expect(one).toEqual([packets[2]]);
  });
});

describe('XMPP over WebSocket (RFC 7395)', () => {
  const state = () => xmppWsFraming(65_536).start()!;
  const inbound = (s: string) => {
    const r = state().inbound(Buffer.from(s));
    return Buffer.isBuffer(r) ? r.toString() : r;
  };

  it('counts top-level elements: CDATA, > in values and text, and UTF-8 are no boundary', () => {
    expect(topLevelElements(Buffer.from("<message to='a>b'><body>x > y <![CDATA[<not/>]]> é</body></message>")).count).toBe(1);
    expect(topLevelElements(Buffer.from('<a/><b/>')).count).toBe(2);
    expect(topLevelElements(Buffer.from('<a><b>')).count).toBe(-1);
    expect(topLevelElements(Buffer.from('text<a/>')).count).toBe(-1);
    expect(topLevelElements(Buffer.from('  ')).count).toBe(0);
  });

  it('<open/> becomes the stream header with its attributes, <close/> the stream end, stanzas pass as they are (§3.3)', () => {
    expect(inbound(`<open ${FRAMING} to='example.org' version='1.0' xml:lang="en"/>`)).toBe(
      "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.org' version='1.0' xml:lang='en'>",
    );
    expect(inbound(`<close ${FRAMING}/>`)).toBe('</stream:stream>');
    const iq = "<iq xmlns='jabber:client' type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>";
    expect(inbound(iq)).toBe(iq);
    // An <open/> outside the framing namespace is a stanza: the stream machine refuses it.
    expect(inbound("<open to='example.org'/>")).toBe("<open to='example.org'/>");
  });

  it('refuses a message that is not exactly one element starting with < (§3.3.3): two stanzas, half of one, whitespace', () => {
    for (const bad of ["<message to='a'/><message to='b'/>", '<message><body>hi', ' ', ' <presence/>']) {
      expect(inbound(bad)).toEqual({ refuse: expect.stringContaining('RFC 7395 §3.3.3') });
    }
  });

  it('our output: one message per element, <open/> for the header, the namespaces each element needs, <close/>', () => {
    const out: string[] = [];
    const s = state();
    s.outbound(
      "<?xml version='1.0'?><stream:stream xmlns=\"jabber:client\" xmlns:stream=\"http://etherx.jabber.org/streams\" id=\"s1\" from=\"example.org\" version=\"1.0\" xml:lang=\"en\"><stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>",
      (m) => out.push(m as string),
    );
    s.outbound("<iq type='result' id='1'/><message from='a@example.org' to='b@example.org'><body>1 &lt; 2</body></message>", (m) => out.push(m as string));
    s.outbound("<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>", (m) => out.push(m as string));
    expect(out).toEqual([
      `<open ${FRAMING} id='s1' from='example.org' version='1.0' xml:lang='en'/>`,
      "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>",
      "<iq xmlns='jabber:client' type='result' id='1'/>",
      "<message xmlns='jabber:client' from='a@example.org' to='b@example.org'><body>1 &lt; 2</body></message>",
      "<stream:error xmlns:stream='http://etherx.jabber.org/streams'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
      `<close ${FRAMING}/>`,
    ]);
  });
});
