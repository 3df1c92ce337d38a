/**
 * The ping round trip without the XML parser (fast-pong.ts, XEP-0199 §4.1): the byte matcher, the
 * parser's boundary report it depends on, and whole streams where it must fire or must not.
 */
import { describe, expect, it } from 'vitest';
import { matchIqResult, pingXml } from '../../src/xmpp/fast-pong.js';
import { createXmlStreamParser } from '../../src/xmpp/xml-stream.js';
import { header, makeHarness } from './harness.js';
import { DOMAIN } from './rig.js';

const m = (s: string) => matchIqResult(Buffer.from(s));
const ping = { ping_interval: 5, ping_ack_timeout: 3, timeout_action: 'kill' };

describe('matchIqResult', () => {
  it.each([
    [`<iq type='result' id='ping-1'/>`, 'ping-1', undefined],
    [`<iq id="ping-1" type="result"/>`, 'ping-1', undefined],
    [`<iq type='result' id='x' to='${DOMAIN}' from='a@${DOMAIN}/r'/>`, 'x', DOMAIN],
    [` <iq  to = "${DOMAIN}"\ttype='result' id='x' ></iq >\n`, 'x', DOMAIN],
    [`<iq xmlns='jabber:client' type='result' id='x'></iq>`, 'x', undefined],
  ])('accepts %j', (s, id, to) => {
    expect(m(s)).toEqual({ id, to });
  });

  it.each([
    `<iq type='get' id='x'/>`,
    `<iq type='error' id='x'/>`,
    `<iq type='result'/>`,
    `<iq type='result' id='x' id='y'/>`,
    `<iq type='result' id='x' xml:lang='en'/>`,
    `<iq type='result' id='a&amp;b'/>`,
    `<iq type='result' id='x'><ping xmlns='urn:xmpp:ping'/></iq>`,
    `<iq type='result' id='x'>`,
    `<iq type='result' id='x'/><presence/>`,
    `<iq type='result' id='x'></message>`,
    `<iq type='result' id='x`,
    `<iq type='result' id='x' xmlns='jabber:server'/>`,
    `<iq type=result id='x'/>`,
    `<iqq type='result' id='x'/>`,
    `<iq type='result' id='é'/>`,
  ])('refuses %j (left to the parser)', (s) => {
    expect(m(s)).toBeNull();
  });

  it('builds the ping with the id spliced in and the JID escaped', () => {
    expect(pingXml(DOMAIN, `a@${DOMAIN}/it's`, 'ping-7')).toBe(`<iq type='get' from='${DOMAIN}' to='a@${DOMAIN}/it&apos;s' id='ping-7'><ping xmlns='urn:xmpp:ping'/></iq>`);
  });
});

describe('XmlStreamParser.atBoundary', () => {
  const open = () => {
    const p = createXmlStreamParser({ maxStanzaBytes: 10_000 });
    p.write(header());
    return p;
  };

  it('is true after the header and after whole stanzas, false inside one', () => {
    const p = createXmlStreamParser({ maxStanzaBytes: 10_000 });
    expect(p.atBoundary()).toBe(false);
    p.write(header());
    expect(p.atBoundary()).toBe(true);
    p.write(`<message><body>hi`);
    expect(p.atBoundary()).toBe(false);
    p.write(`</body></message> `);
    expect(p.atBoundary()).toBe(true);
    p.write(`<iq type='get' id='1'/><presence/>\n`);
    expect(p.atBoundary()).toBe(true);
    p.write(`<pres`);
    expect(p.atBoundary()).toBe(false);
    p.write(`ence/>`);
    expect(p.atBoundary()).toBe(true);
  });

  it('is false while a start tag is open, even when its attribute value looks like a stanza end', () => {
    const p = open();
    p.write(`<iq/><iq id='</iq>`);
    expect(p.atBoundary()).toBe(false);
    p.write(`<presence/>`);
    expect(p.atBoundary()).toBe(false);
  });

  it('never claims a boundary again after what it cannot count (CDATA), and after the stream close', () => {
    const p = open();
    p.write(`<message><body><![CDATA[a<b]]></body></message>`);
    expect(p.atBoundary()).toBe(false);
    p.write(`<presence/>`);
    expect(p.atBoundary()).toBe(false);
    const q = open();
    q.write(`</stream:stream>`);
    expect(q.atBoundary()).toBe(false);
  });

  it('is false while a multi-byte character is cut, or a ? / ] is held back', () => {
    const p = open();
    const body = Buffer.from('<message><body>é</body></message>');
    p.write(body);
    expect(p.atBoundary()).toBe(true);
    p.write(Buffer.concat([Buffer.from('<message><body>'), Buffer.from('é').subarray(0, 1)]));
    expect(p.atBoundary()).toBe(false);
    p.write(Buffer.concat([Buffer.from('é').subarray(1), Buffer.from('</body></message>')]));
    expect(p.atBoundary()).toBe(true);
  });
});

describe('server ping answers on the fast path (XEP-0199 §4.1)', () => {
  const fast = async (h: ReturnType<typeof makeHarness>) =>
    (await h.deps.metrics.registry.getSingleMetric('vigil_xmpp_fast_pongs_total')?.get())?.values[0]?.value ?? 0;

  it('a whole answer between stanzas is taken without the parser, and keeps the session', async () => {
    const h = makeHarness({ host: { ping } });
    const c = await h.login('alice', 'laptop');
    for (let round = 0; round < 3; round++) {
      await h.advance(5_000);
      const [p] = c.take();
      expect(p?.attrs.type).toBe('get');
      await c.send(round === 1 ? `<iq id="${p?.attrs.id}" type="result"></iq>` : `<iq type='result' id='${p?.attrs.id}' to='${DOMAIN}'/>`);
    }
    expect(await fast(h)).toBe(3);
    await h.advance(4_999);
    expect(c.streamError()).toBeUndefined();
    expect(h.events.some((e) => e.type === 'offline')).toBe(false);
  });

  it('not while a stanza is half received: those bytes belong to it, and the ping stays unanswered', async () => {
    const h = makeHarness({ host: { ping } });
    const c = await h.login('alice', 'laptop');
    await h.advance(5_000);
    const [p] = c.take();
    await c.send(`<message to='alice@${DOMAIN}/laptop' id='m1'><body>`);
    await c.send(`<iq type='result' id='${p?.attrs.id}'/>`);
    await c.send(`</body></message>`);
    expect(await fast(h)).toBe(0);
    // The message came through whole, the iq inside its body; the ping is still pending.
    const [msg] = c.take();
    expect(msg?.attrs.id).toBe('m1');
    await c.send(`<iq type='result' id='${p?.attrs.id}'/>`);
    expect(await fast(h)).toBe(1);
  });

  it('an answer with an unknown id or to another address goes through the parser (no pong)', async () => {
    const h = makeHarness({ host: { ping } });
    const c = await h.login('alice', 'laptop');
    await h.advance(5_000);
    const [p] = c.take();
    await c.send(`<iq type='result' id='nope'/>`);
    await c.send(`<iq type='result' id='${p?.attrs.id}' to='bob@${DOMAIN}'/>`);
    expect(await fast(h)).toBe(0);
    expect(c.streamError()).toBeUndefined();
    await c.send(`<iq type='result' id='${p?.attrs.id}'/>`);
    expect(await fast(h)).toBe(1);
  });
});
