import { describe, expect, it } from 'vitest';
import { createXmlStreamParser } from '../../src/xmpp/xml-stream.js';

const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.org' version='1.0'>";

describe('xml stream parser (RFC 6120 §4, §11)', () => {
  it('emits open, stanzas and close, across arbitrary chunk boundaries', () => {
    const p = createXmlStreamParser({ maxStanzaBytes: 1000 });
    const doc = `${HEADER}<message to='a@b'><body>hi &amp; &lt;bye&gt;</body></message> <iq type='get' id='1'/></stream:stream>`;
    const events = [];
    for (let i = 0; i < doc.length; i += 3) events.push(...p.write(doc.slice(i, i + 3)));
    expect(events.map((e) => e.type)).toEqual(['open', 'stanza', 'stanza', 'close']);
    const msg = events[1];
    expect(msg?.type === 'stanza' && msg.el.children[0]).toEqual({ name: 'body', attrs: {}, children: ['hi & <bye>'] });
  });

  it('accepts whitespace keepalives and CDATA', () => {
    const p = createXmlStreamParser({ maxStanzaBytes: 1000 });
    const ev = p.write(`${HEADER}  \n <message><body><![CDATA[a<b]]></body></message>`);
    expect(ev.map((e) => e.type)).toEqual(['open', 'stanza']);
  });

  it.each([
    ['a DOCTYPE', `<!DOCTYPE foo [<!ENTITY x "y">]>${HEADER}`],
    ['an entity declaration inside the stream', `${HEADER}<!ENTITY lol "lol">`],
    ['a comment', `${HEADER}<!-- hi -->`],
    ['a processing instruction', `${HEADER}<?php echo 1; ?>`],
  ])('refuses %s with restricted-xml (§11.1)', (_what, doc) => {
    const p = createXmlStreamParser({ maxStanzaBytes: 1000 });
    const ev = p.write(doc);
    expect(ev.at(-1)).toMatchObject({ type: 'error', condition: 'restricted-xml' });
  });

  it('refuses a DOCTYPE split across chunks', () => {
    const p = createXmlStreamParser({ maxStanzaBytes: 1000 });
    expect(p.write('<')).toEqual([]);
    expect(p.write('!DOC').at(-1)).toMatchObject({ condition: 'restricted-xml' });
  });

  it.each([
    ['a mismatched end tag', `${HEADER}<message><body></message>`],
    ['an undefined entity', `${HEADER}<message><body>&lol;</body></message>`],
    ["text at stream level", `${HEADER}hello<message/>`],
  ])('reports %s as not-well-formed', (_what, doc) => {
    const p = createXmlStreamParser({ maxStanzaBytes: 1000 });
    expect(p.write(doc).at(-1)).toMatchObject({ type: 'error', condition: 'not-well-formed' });
  });

  it('refuses a stanza over the size limit with policy-violation, also one that never closes', () => {
    const p = createXmlStreamParser({ maxStanzaBytes: 1024 });
    expect(p.write(`${HEADER}<message><body>${'x'.repeat(2000)}</body></message>`).at(-1)).toMatchObject({ condition: 'policy-violation' });
    const q = createXmlStreamParser({ maxStanzaBytes: 1024 });
    q.write(HEADER);
    let last;
    for (let i = 0; i < 10 && !last; i++) last = q.write(`<message><body>${'y'.repeat(1000)}`).find((e) => e.type === 'error');
    expect(last).toMatchObject({ condition: 'policy-violation' });
  });

  it('is dead after an error and fresh after reset()', () => {
    const p = createXmlStreamParser({ maxStanzaBytes: 1000 });
    p.write(`${HEADER}<a></b>`);
    expect(p.write('<message/>')).toEqual([]);
    p.reset();
    expect(p.write(HEADER).map((e) => e.type)).toEqual(['open']);
  });
});
