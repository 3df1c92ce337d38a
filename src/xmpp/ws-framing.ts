/**
 * XMPP over WebSocket (RFC 7395): the framing the WebSocket transport
 * (src/transport/ws-connection.ts) applies to a c2s connection, so that connection.ts, the stream
 * parser and the negotiation run unchanged, as over TCP.
 *
 *   in   text messages only (§3.2). Each message must be exactly one XML element whose first
 *        character is `<` (§3.3.3): anything else (two stanzas, half a stanza, whitespace) is
 *        refused and the stream ends with not-well-formed. `<open xmlns=FRAMING .../>` becomes
 *        the stream header the parser expects, with its attributes (§3.3.1, a stream restart is a
 *        new <open/>: §3.3.2, §3.4); `<close xmlns=FRAMING/>` becomes `</stream:stream>` (§3.6).
 *        Stanzas go to the parser as they came.
 *   out  what the connection writes is cut into one message per element: our stream header
 *        becomes `<open/>` (from, id, version, xml:lang, and to), `</stream:stream>` becomes
 *        `<close/>`, the XML declaration is dropped, and each element gets the namespaces the
 *        stream header declared over TCP (§3.3.3: every message is a complete XML document):
 *        xmlns='jabber:client' on iq / message / presence, xmlns:stream on stream:features and
 *        stream:error. The output cut here is ours (serialize() escapes < and > everywhere), so a
 *        scan for tags finds the element boundaries.
 * The inbound check reads bytes: the markup characters are ASCII, which no byte of a multi-byte
 * UTF-8 character is.
 */
import type { FramingState, Inbound, WsFraming } from '../transport/ws-connection.js';

export const NS_FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';
const NS_STREAMS = 'http://etherx.jabber.org/streams';
const CLOSE_FRAME = `<close xmlns='${NS_FRAMING}'/>`;
const STREAM_CLOSE = Buffer.from('</stream:stream>');
const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/**
 * How many top-level elements `b` holds, and where the first start tag ends; -1 when the bytes
 * are not a sequence of elements (text outside them, an unfinished tag or element).
 */
export function topLevelElements(b: Buffer): { count: number; firstTagEnd: number } {
  let depth = 0;
  let count = 0;
  let firstTagEnd = -1;
  let i = 0;
  const bad = { count: -1, firstTagEnd: -1 };
  while (i < b.length) {
    const c = b[i]!;
    if (c !== LT) {
      if (depth === 0 && !isSpace(c)) return bad;
      i++;
      continue;
    }
    const next = b[i + 1];
    if (next === 0x21) {
      // <![CDATA[ ... ]]> inside an element; comments and DTDs are the parser's to refuse.
      const end = b.indexOf(b.subarray(i + 1, i + 9).toString() === '![CDATA[' ? ']]>' : '>', i + 2);
      if (end < 0 || depth === 0) return bad;
      i = end + 1;
      continue;
    }
    if (next === 0x3f) {
      const end = b.indexOf('?>', i + 2);
      if (end < 0) return bad;
      i = end + 2;
      continue;
    }
    // A tag: find its end outside quoted attribute values ('>' is legal inside them).
    let j = i + 1;
    let quote = 0;
    for (; j < b.length; j++) {
      const d = b[j]!;
      if (quote !== 0) {
        if (d === quote) quote = 0;
      } else if (d === 0x22 || d === 0x27) quote = d;
      else if (d === GT) break;
    }
    if (j >= b.length) return bad;
    if (next === SLASH) {
      depth--;
      if (depth < 0) return bad;
      if (depth === 0) count++;
    } else if (b[j - 1] === SLASH) {
      if (depth === 0) count++;
    } else depth++;
    if (firstTagEnd < 0) firstTagEnd = j;
    i = j + 1;
  }
  return depth === 0 ? { count, firstTagEnd } : bad;
}

/** The attributes of a start tag (its text, `<name ...>`), in order, values as written (escaped). */
function attrsOf(tag: string): [string, string][] {
  const out: [string, string][] = [];
  for (const m of tag.matchAll(/([^\s=/<>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) out.push([m[1]!, m[2] ?? m[3] ?? '']);
  return out;
}

const quoteAttr = (name: string, v: string) => (v.includes("'") ? ` ${name}="${v}"` : ` ${name}='${v}'`);

/** An inbound `<open xmlns=FRAMING .../>` as our parser's stream header (RFC 7395 §3.3.1). */
function headerOf(openTag: string): Buffer {
  let out = `<stream:stream xmlns='jabber:client' xmlns:stream='${NS_STREAMS}'`;
  for (const [k, v] of attrsOf(openTag)) if (k !== 'xmlns' && k !== 'xmlns:stream') out += quoteAttr(k, v);
  return Buffer.from(`${out}>`);
}

/** Our stream header as `<open/>` (RFC 7395 §3.3.2). */
function openFrameOf(header: string): string {
  let out = `<open xmlns='${NS_FRAMING}'`;
  for (const [k, v] of attrsOf(header)) if (k !== 'xmlns' && k !== 'xmlns:stream') out += quoteAttr(k, v);
  return `${out}/>`;
}

function nameAt(s: string, i: number): string {
  const m = /^<([^\s/>]+)/.exec(s.slice(i, i + 64));
  return m ? m[1]! : '';
}

/** An element of ours with the namespaces the stream header would have given it (§3.3.3). */
function withNamespaces(el: string, name: string): string {
  const tagEnd = el.indexOf('>');
  const tag = el.slice(0, tagEnd);
  let add = '';
  if ((name === 'iq' || name === 'message' || name === 'presence') && !/\sxmlns=/.test(tag)) add = " xmlns='jabber:client'";
  else if (name.startsWith('stream:') && !/\sxmlns:stream=/.test(tag)) add = ` xmlns:stream='${NS_STREAMS}'`;
  return add === '' ? el : `<${name}${add}${el.slice(1 + name.length)}`;
}

/** The end of the element of ours starting at `i` (index after it), or -1 when it is not all there. */
function elementEnd(s: string, i: number): number {
  let depth = 0;
  let at = i;
  for (;;) {
    const lt = s.indexOf('<', at);
    if (lt < 0) return -1;
    const gt = s.indexOf('>', lt);
    if (gt < 0) return -1;
    if (s[lt + 1] === '/') depth--;
    else if (s[gt - 1] !== '/') depth++;
    at = gt + 1;
    if (depth <= 0) return at;
  }
}

class XmppWsState implements FramingState {
  /** An unfinished piece of our own output (never expected: writes are whole elements). */
  private rest = '';

  inbound(data: Buffer): Inbound {
    const { count, firstTagEnd } = topLevelElements(data);
    if (count !== 1 || data[0] !== LT) return { refuse: 'RFC 7395 §3.3.3: a WebSocket message must hold exactly one XML element, starting with <' };
    const tag = data.subarray(0, firstTagEnd + 1).toString('utf8');
    const name = nameAt(tag, 0);
    const framed = attrsOf(tag).some(([k, v]) => k === 'xmlns' && v === NS_FRAMING);
    if (framed && name === 'open') return headerOf(tag);
    if (framed && name === 'close') return STREAM_CLOSE;
    return data;
  }

  outbound(chunk: Buffer | string, send: (msg: string) => void): void {
    const s = this.rest + (typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    this.rest = '';
    let i = 0;
    while (i < s.length) {
      const lt = s.indexOf('<', i);
      if (lt < 0) break; // whitespace between elements: nothing to send
      if (s.startsWith('<?', lt)) {
        const end = s.indexOf('?>', lt);
        if (end < 0) return void (this.rest = s.slice(lt));
        i = end + 2;
        continue;
      }
      if (s.startsWith('</stream:stream>', lt)) {
        send(CLOSE_FRAME);
        i = lt + 16;
        continue;
      }
      const name = nameAt(s, lt);
      if (name === 'stream:stream') {
        const gt = s.indexOf('>', lt);
        if (gt < 0) return void (this.rest = s.slice(lt));
        send(openFrameOf(s.slice(lt, gt + 1)));
        i = gt + 1;
        continue;
      }
      const end = elementEnd(s, lt);
      if (end < 0) return void (this.rest = s.slice(lt));
      send(withNamespaces(s.slice(lt, end), name));
      i = end;
    }
  }
}

/** `maxMessageBytes`: the largest max_stanza_size of all hosts (a bigger message closes with 1009). */
export function xmppWsFraming(maxMessageBytes: number): WsFraming {
  return { protocol: 'xmpp', subprotocols: ['xmpp'], binary: false, maxMessageBytes, start: () => new XmppWsState() };
}
