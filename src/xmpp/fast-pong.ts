/**
 * The server ping round trip without element trees (XEP-0199 §4.1 server-to-client ping, §6 any
 * reply is proof of life): the ping is one string with the id spliced in, and a read that is
 * exactly the client's answer, `<iq type='result' id='ID'/>`, is recognised on the bytes.
 *
 * `matchIqResult` accepts one `<iq>` element with only the attributes type, id, to, from and
 * xmlns (jabber:client), in any order and either quote style (XML 1.0 §3.1 AttValue), self-closing
 * or with an empty end tag, whitespace around; values without `&` (no entity to decode). Anything
 * else returns null and the caller hands the bytes to the XML parser as usual, so correctness
 * never depends on this function: it only has to refuse what it does not fully understand.
 */
import { escapeAttr } from './xml.js';

const PING_TAIL = `'><ping xmlns='urn:xmpp:ping'/></iq>`;

/** XEP-0199 §4.1: the server's ping to a client, from the bare domain to the full JID. */
export function pingXml(domain: string, fullJid: string, id: string): string {
  return `<iq type='get' from='${escapeAttr(domain)}' to='${escapeAttr(fullJid)}' id='${id}${PING_TAIL}`;
}

export interface IqResult {
  id: string;
  to: string | undefined;
}

const MAX_LEN = 512;

const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/** `<iq type='result' id='...'/>` (see the header) as {id, to}, or null. */
export function matchIqResult(chunk: Buffer): IqResult | null {
  const n = chunk.length;
  if (n > MAX_LEN || n < 8) return null;
  let i = 0;
  while (i < n && isSpace(chunk[i]!)) i++;
  // '<iq' and a blank
  if (chunk[i] !== 60 || chunk[i + 1] !== 105 || chunk[i + 2] !== 113 || !isSpace(chunk[i + 3] ?? 0)) return null;
  i += 4;
  let type: string | undefined;
  let id: string | undefined;
  let to: string | undefined;
  let from: string | undefined;
  let xmlns: string | undefined;
  for (;;) {
    while (i < n && isSpace(chunk[i]!)) i++;
    const c = chunk[i];
    if (c === 47 /* / */ || c === 62 /* > */) break;
    const nameStart = i;
    while (i < n && chunk[i] !== 61 /* = */ && !isSpace(chunk[i]!)) i++;
    const name = chunk.toString('latin1', nameStart, i);
    while (i < n && isSpace(chunk[i]!)) i++;
    if (chunk[i] !== 61) return null;
    i++;
    while (i < n && isSpace(chunk[i]!)) i++;
    const q = chunk[i];
    if (q !== 39 && q !== 34) return null;
    const end = chunk.indexOf(q, i + 1);
    if (end === -1) return null;
    const value = chunk.toString('latin1', i + 1, end);
    i = end + 1;
    if (!/^[\x20-\x25\x27-\x3b\x3d\x3f-\x7e]*$/.test(value)) return null; // ASCII, no & < >
    if (name === 'type' && type === undefined) type = value;
    else if (name === 'id' && id === undefined) id = value;
    else if (name === 'to' && to === undefined) to = value;
    else if (name === 'from' && from === undefined) from = value;
    else if (name === 'xmlns' && xmlns === undefined) xmlns = value;
    else return null; // another attribute, or one given twice
    if (i < n && !isSpace(chunk[i]!) && chunk[i] !== 47 && chunk[i] !== 62) return null;
  }
  if (chunk[i] === 47) {
    if (chunk[i + 1] !== 62) return null;
    i += 2;
  } else {
    // '>' then '</iq' blank* '>'
    i++;
    if (chunk[i] !== 60 || chunk[i + 1] !== 47 || chunk[i + 2] !== 105 || chunk[i + 3] !== 113) return null;
    i += 4;
    while (i < n && isSpace(chunk[i]!)) i++;
    if (chunk[i] !== 62) return null;
    i++;
  }
  while (i < n && isSpace(chunk[i]!)) i++;
  if (i !== n || type !== 'result' || id === undefined) return null;
  if (xmlns !== undefined && xmlns !== 'jabber:client') return null;
  return { id, to };
}
