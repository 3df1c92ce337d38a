/**
 * Split at every byte: a whole valid c2s session (stream header, SASL PLAIN, restart, bind,
 * session, presence, message, roster get/set, subscribe, ping, disco, unknown IQ, whitespace,
 * unavailable, close) must get the same answers whatever TCP does to it: each segment written
 * whole, each segment cut in two at every byte offset, and the whole stream one byte per write.
 * The answers are compared as (element, type, first child) triples; ids differ per run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createXmlStreamParser } from '../../src/xmpp/xml-stream.js';
import { child } from '../../src/xmpp/xml.js';
import { RawConn } from '../fuzz/clients.js';
import { FUZZ_DOMAIN, XML_SEEDS } from '../fuzz/xml-cases.js';
import { makeWorld, settle } from '../fuzz/world.js';

const world = makeWorld();
afterAll(() => world.stop());
// The seed's PLAIN login is a cache hit from here on (answered in the same turn): the runs compare
// what the XML handling answers, not how fast the thread pool runs a first PBKDF2.
beforeAll(async () => expect(await world.deps.passwords.checkAsync(FUZZ_DOMAIN, 'fuzzer', 'fuzzpw')).toBe(true));
const SEED = XML_SEEDS[0]!.map((s) => Buffer.from(s));

/** Run one session; `cut(i)` gives the writes for segment i. */
async function run(cut: (seg: Buffer, i: number) => Buffer[]): Promise<string[]> {
  const conn = new RawConn(world, 'xmpp', '198.51.100.7', Infinity);
  for (let i = 0; i < SEED.length; i++) {
    conn.write(cut(SEED[i]!, i));
    await settle(3);
    // PLAIN is verified on the libuv pool: on a loaded machine three turns are not always enough.
    const answered = () => /<(success|failure)\b/.test(Buffer.concat(conn.out).toString());
    if (SEED[i]!.includes('<auth')) for (const until = Date.now() + 10_000; !answered() && Date.now() < until; ) await settle(1);
  }
  await world.advance(600);
  const parser = createXmlStreamParser({ maxStanzaBytes: 1 << 20 });
  const out: string[] = [];
  // Cut the output at each server stream header (a new stream follows <success/>), keeping the
  // XML declaration with its header.
  const text = Buffer.concat(conn.out).toString();
  const starts = [...text.matchAll(/(?:<\?xml[^>]*\?>)?<stream:stream/g)].map((m) => m.index);
  for (let i = 0; i < starts.length; i++) {
    parser.reset();
    for (const ev of parser.write(text.slice(starts[i], starts[i + 1] ?? text.length))) {
      if (ev.type === 'stanza') out.push(`${ev.el.name}:${ev.el.attrs.type ?? ''}:${child(ev.el)?.name ?? ''}`);
      else out.push(ev.type);
    }
  }
  expect(conn.closed).toBe(true);
  return out;
}

describe('XML stream split at every byte', () => {
  let reference: string[] = [];

  it('the whole session in segments is answered in full', async () => {
    await run((s) => [s]); // first run creates the roster item and the pending subscription
    reference = await run((s) => [s]);
    expect(reference).toContain('success::');
    expect(reference).toContain('iq:result:bind');
    expect(reference).toContain('iq:set:query'); // the roster push
    expect(reference.at(-1)).toBe('close');
  });

  it('each segment cut in two at every byte offset gives the same answers', async () => {
    let runs = 0;
    for (let i = 0; i < SEED.length; i++) {
      const seg = SEED[i]!;
      for (let k = 1; k < seg.length; k++) {
        const got = await run((s, j) => (j === i ? [s.subarray(0, k), s.subarray(k)] : [s]));
        if (got.join() !== reference.join()) expect({ segment: i, offset: k, got }).toEqual({ segment: i, offset: k, got: reference });
        runs++;
      }
    }
    expect(runs).toBeGreaterThan(1000);
  }, 120_000);

  it('one byte per write gives the same answers', async () => {
    const got = await run((s) => Array.from(s, (_, j) => s.subarray(j, j + 1)));
    expect(got).toEqual(reference);
  });
});

describe('XML stream parser and UTF-8', () => {
  const stanza = Buffer.from(`<message><body>h\u00e9llo \u263a \u{1f600}<![CDATA[ <x> ]]]]></body></message>`);
  const open = `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`;

  it('a character or a CDATA end cut at any byte arrives whole (RFC 6120 §11.6)', () => {
    for (let k = 1; k < stanza.length; k++) {
      const p = createXmlStreamParser({ maxStanzaBytes: 65536 });
      const evs = [...p.write(open), ...p.write(stanza.subarray(0, k)), ...p.write(stanza.subarray(k))];
      const el = evs.find((e) => e.type === 'stanza');
      expect(el && el.type === 'stanza' ? child(el.el, 'body')?.children.join('') : `none at ${k}`).toBe('h\u00e9llo \u263a \u{1f600} <x> ]]');
    }
  });

  it('invalid UTF-8 is unsupported-encoding (RFC 6120 §4.9.3.22)', () => {
    for (const bad of [[0xc0, 0x80], [0xff], [0xed, 0xa0, 0x80], [0x80]]) {
      const p = createXmlStreamParser({ maxStanzaBytes: 65536 });
      const evs = [...p.write(open), ...p.write(Buffer.concat([Buffer.from('<message><body>'), Buffer.from(bad)]))];
      expect(evs.at(-1)).toMatchObject({ type: 'error', condition: 'unsupported-encoding' });
    }
  });
});
