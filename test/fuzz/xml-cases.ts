/**
 * XMPP fuzz inputs: valid c2s streams (seeds, as the segments a real client writes between the
 * server's answers) and XML-aware mutators: broken tags, huge attributes, deep nesting, entity and
 * DTD tricks (RFC 6120 §11.1 restricted XML), invalid UTF-8, plus the byte mutators of mutate.ts.
 */
import { BYTE_MUTATORS } from './mutate.js';
import type { Rng } from './rng.js';

export const FUZZ_DOMAIN = 'fuzz.example';

export const streamHeader = (to = FUZZ_DOMAIN) =>
  `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${to}' version='1.0'>`;

const plain = (user: string, pw: string) => Buffer.from(`\u0000${user}\u0000${pw}`).toString('base64');
const AUTH = `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain('fuzzer', 'fuzzpw')}</auth>`;
const BIND = `<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>fz</resource></bind></iq>`;
const SESSION = `<iq type='set' id='s1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>`;

/** Each seed is a list of segments; a segment is what a client sends before waiting for the server. */
export const XML_SEEDS: readonly (readonly string[])[] = [
  [streamHeader(), AUTH, streamHeader(), BIND, SESSION,
    `<presence><show>away</show><status>fuzzing &amp; more</status><priority>5</priority></presence>`,
    `<message to='control-b@${FUZZ_DOMAIN}' type='chat' id='m1'><body>hi &lt;there&gt; &#x263A; h\u00e9llo \u263a \u{1f600}</body></message>`,
    `<message to='control-b@${FUZZ_DOMAIN}' type='chat' id='m2'><body><![CDATA[a <b> ]] ]]></body><thread>t?</thread></message>`,
    `<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>`,
    `<iq type='set' id='r2'><query xmlns='jabber:iq:roster'><item jid='x@${FUZZ_DOMAIN}' name='X'><group>G</group></item></query></iq>`,
    `<presence to='control-a@${FUZZ_DOMAIN}' type='subscribe'/>`,
    `<iq type='get' id='p1' to='${FUZZ_DOMAIN}'><ping xmlns='urn:xmpp:ping'/></iq>`,
    `<iq type='get' id='d1' to='${FUZZ_DOMAIN}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`,
    `<iq type='get' id='v1'><vCard xmlns='vcard-temp'/></iq>`,
    ` `,
    `<presence type='unavailable'/>`,
    `</stream:stream>`],
  [streamHeader(), `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>${Buffer.from('n,,n=fuzzer,r=abcdefghijkl').toString('base64')}</auth>`,
    `<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${Buffer.from('c=biws,r=abcdefghijklXX,p=AAAA').toString('base64')}</response>`,
    `<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`, `</stream:stream>`],
  [streamHeader(), `<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`],
  [streamHeader('unknown.example'), `</stream:stream>`],
  [streamHeader(), AUTH, streamHeader(), `<message to='control-a@${FUZZ_DOMAIN}'><body>before bind</body></message>`, BIND,
    `<iq type='get' id='x'><unknown xmlns='urn:x'/></iq>`, `<iq type='result' id='zz'/>`,
    `<message from='control-a@${FUZZ_DOMAIN}/spoof' to='control-b@${FUZZ_DOMAIN}'><body>spoof</body></message>`],
];

const NS_FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';

/**
 * The seeds as an RFC 7395 client sends them, one message per segment: <open/> for a stream
 * header (and the restart after SASL), <close/> for the stream end.
 */
export const WS_SEEDS: readonly (readonly string[])[] = XML_SEEDS.map((seed) =>
  seed.map((s) => {
    const to = /<stream:stream [^>]*to='([^']*)'/.exec(s)?.[1];
    if (to !== undefined) return `<open xmlns='${NS_FRAMING}' to='${to}' version='1.0'/>`;
    return s === '</stream:stream>' ? `<close xmlns='${NS_FRAMING}'/>` : s;
  }),
);

const ATTACKS: readonly ((rng: Rng) => string)[] = [
  (rng) => ` a${rng.int(99)}='${'x'.repeat(rng.pick([100, 5_000, 70_000, 200_000]))}'`,
  (rng) => {
    const depth = rng.pick([50, 1_000, 20_000]);
    return '<a>'.repeat(depth) + (rng.chance(0.5) ? '</a>'.repeat(depth) : '');
  },
  () => `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>`,
  () => `<!ENTITY xxe SYSTEM "file:///etc/passwd">`,
  (rng) => rng.pick(['&xxe;', '&lol2;', '&#0;', '&#xD800;', '&#99999999;', '&#x110000;', '&amp', '&;', '&#x;', '&#-1;', '&unknown;']),
  () => `<!-- comment -->`,
  () => `<?php echo 1 ?>`,
  () => `<![CDATA[<message/>]]>`,
  (rng) => rng.pick(['<', '>', '</', '/>', '<>', '<a b=>', "<a b='1' b='2'/>", '<:a/>', '<a:b:c/>', "<x xmlns:p=''/>", '</stream:stream>', '</stream:stream><stream:stream>']),
  (rng) => `<${'n'.repeat(rng.pick([10, 70_000]))}/>`,
  (rng) => `<m${Array.from({ length: rng.pick([10, 3_000]) }, (_, i) => ` a${i}='v'`).join('')}/>`,
];

const INVALID_UTF8: readonly Buffer[] = [
  Buffer.from([0xc0, 0x80]), Buffer.from([0xff]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0x80]),
  Buffer.from([0xf4, 0x90, 0x80, 0x80]), Buffer.from([0xe2, 0x82]), Buffer.from([0x00]), Buffer.from([0xef, 0xbb, 0xbf]),
];

/**
 * One mutated stream from a random seed, as the segments a client writes (one is mutated). The
 * server discards what follows a stream restart in the same read (RFC 6120 §4.3.3), so writing
 * segment by segment is what reaches the bound state.
 */
export function xmlCase(rng: Rng, ws = false): Buffer[] {
  const seed = ws ? rng.pick(WS_SEEDS) : rng.pick(XML_SEEDS);
  const segs: Buffer[] = seed.slice(0, 1 + rng.int(seed.length)).map((s) => Buffer.from(s));
  const i = rng.int(segs.length);
  let s = segs[i]!.toString();
  let b: Buffer;
  const kind = rng.int(4);
  if (kind <= 1) {
    const at = rng.int(s.length + 1);
    s = s.slice(0, at) + rng.pick(ATTACKS)(rng) + s.slice(at);
    b = Buffer.from(s);
  } else if (kind === 2) {
    b = segs[i]!;
    const at = rng.int(b.length + 1);
    b = Buffer.concat([b.subarray(0, at), rng.pick(INVALID_UTF8), b.subarray(at)]);
  } else {
    b = segs[i]!;
  }
  const rounds = kind === 3 ? 1 + rng.int(3) : rng.int(2);
  for (let r = 0; r < rounds; r++) b = rng.pick(BYTE_MUTATORS)(b, rng);
  segs[i] = b;
  return segs;
}
