/**
 * Incremental parser for one XMPP stream (RFC 6120 §4, §11): turns bytes into
 * `open` (stream header attributes), `stanza` (each first-level child, as XmlEl) and `close`.
 *
 * Restricted XML (RFC 6120 §11.1): comments, processing instructions (other than the XML
 * declaration), DOCTYPE and entity declarations are refused with `restricted-xml`; entities are
 * never expanded beyond the five predefined ones and character references. Malformed input gives
 * `not-well-formed`; a first-level element larger than `maxStanzaBytes` gives `policy-violation`.
 * After an error the parser is dead: every later write is ignored. `reset()` (stream restart after
 * STARTTLS or SASL, §4.3.3) starts a fresh lexer.
 *
 * TCP may cut anywhere (test/robustness/xml-split.test.ts cuts at every byte): bytes are decoded
 * with a streaming UTF-8 decoder (a character split across reads stays whole; invalid UTF-8 is
 * `unsupported-encoding`, §4.9.3.22, §11.6; made at the first non-ASCII byte: ASCII needs none, and
 * each decoder holds native ICU memory), and a trailing run of `?` or `]` is held back until
 * the next read, because the ltx lexer only sees the `?>` of the XML declaration and the `]]>` of
 * CDATA when they arrive in one piece.
 *
 * `atBoundary()` tells whether the lexer sits between top-level stanzas with nothing buffered, so
 * a caller may recognise a whole stanza itself and skip the parser (connection.ts, ping answers).
 * It is exact without looking into ltx: since the last certified boundary, every `<` written
 * must have opened a tag the lexer finished (a start or end tag event, or the XML declaration).
 * A `<` that did not (a tag still open, CDATA, a `<` inside an attribute value) leaves the counts
 * unequal, and the parser never claims a boundary again for this stream: the caller just keeps
 * using the parser.
 */
import { isAscii } from 'node:buffer';
import { TextDecoder } from 'node:util';
import SaxLtx from 'ltx/lib/parsers/ltx.js';
import type { XmlEl } from './xml.js';

export type ParseErrorCondition = 'not-well-formed' | 'restricted-xml' | 'policy-violation' | 'unsupported-encoding';

export type StreamEvent =
  | { type: 'open'; name: string; attrs: Record<string, string> }
  | { type: 'stanza'; el: XmlEl }
  | { type: 'close' }
  | { type: 'error'; condition: ParseErrorCondition; text: string };

export interface XmlStreamParser {
  /** Feed bytes; returns the events they complete, in order. */
  write(chunk: Buffer | string): StreamEvent[];
  reset(): void;
  /** Change the stanza size limit (the stream header named the host). */
  setMaxStanzaBytes(n: number): void;
  /** The stream is open, no stanza is begun and the lexer holds nothing (see the header). */
  atBoundary(): boolean;
}

export function createXmlStreamParser(options: { maxStanzaBytes: number }): XmlStreamParser {
  const opts = { ...options };
  let sax: SaxLtx;
  let events: StreamEvent[] = [];
  let stack: XmlEl[] = [];
  let streamName: string | null = null;
  let stanzaSize = 0;
  let bytesSinceStanza = 0;
  let dead = false;
  let tail = '';
  let sawHeader = false;
  let decoder: TextDecoder | null = null;
  /** Held back from the last read: a trailing run of `?` / `]` (see the header). */
  let carry = '';
  /** Since the last certified boundary: `<` written, tags the lexer completed (see atBoundary). */
  let lts = 0;
  let tags = 0;
  let ltAtEnd = false;
  let boundary = false;

  const fail = (condition: ParseErrorCondition, text: string) => {
    if (dead) return;
    dead = true;
    events.push({ type: 'error', condition, text });
  };

  const fresh = () => {
    sax = new SaxLtx();
    stack = [];
    streamName = null;
    stanzaSize = 0;
    bytesSinceStanza = 0;
    tail = '';
    sawHeader = false;
    decoder = null;
    carry = '';
    lts = 0;
    tags = 0;
    ltAtEnd = false;
    boundary = false;
    sax.on('startElement', (name: string, attrs: Record<string, string>) => {
      tags++;
      if (dead) return;
      if (streamName === null) {
        if (stack.length === 0 && events.some((e) => e.type === 'close')) return fail('not-well-formed', 'content after stream close');
        // A copy, not a slice that would keep the whole header chunk alive for the stream's life.
        streamName = name === 'stream:stream' ? 'stream:stream' : Buffer.from(name).toString();
        events.push({ type: 'open', name, attrs });
        return;
      }
      const el: XmlEl = { name, attrs, children: [] };
      stanzaSize += name.length * 2 + 5;
      for (const [k, v] of Object.entries(attrs)) stanzaSize += k.length + v.length + 4;
      if (stanzaSize > opts.maxStanzaBytes) return fail('policy-violation', 'stanza too large');
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(el);
      stack.push(el);
    });
    sax.on('endElement', (name: string, selfClosing?: boolean) => {
      if (selfClosing !== true) tags++;
      if (dead) return;
      const top = stack.pop();
      if (!top) {
        if (streamName !== null && name === streamName) {
          streamName = null;
          events.push({ type: 'close' });
          return;
        }
        return fail('not-well-formed', `unexpected </${name}>`);
      }
      if (top.name !== name) return fail('not-well-formed', `</${name}> closes <${top.name}>`);
      if (stack.length === 0) {
        events.push({ type: 'stanza', el: top });
        stanzaSize = 0;
        bytesSinceStanza = 0;
      }
    });
    sax.on('text', (s: string) => {
      if (dead) return;
      const parent = stack[stack.length - 1];
      if (!parent) {
        // Whitespace keepalives between stanzas are fine; other text at stream level is not.
        if (streamName === null || s.trim() !== '') fail('not-well-formed', 'text outside a stanza');
        return;
      }
      stanzaSize += s.length;
      if (stanzaSize > opts.maxStanzaBytes) return fail('policy-violation', 'stanza too large');
      parent.children.push(s);
    });
  };
  fresh();

  /** RFC 6120 §11.1: refuse `<!` (except CDATA) and `<?` (except a leading XML declaration). */
  const guard = (s: string): void => {
    const joined = tail + s;
    for (let i = joined.indexOf('<'); i !== -1 && i < joined.length - 1; i = joined.indexOf('<', i + 1)) {
      const c = joined[i + 1];
      if (c === '!') {
        const rest = joined.slice(i + 2, i + 9);
        if (rest.length < 7 && '[CDATA['.startsWith(rest)) break; // undecided: wait for more bytes
        if (rest !== '[CDATA[') return fail('restricted-xml', 'DTD, entity declaration or comment');
      } else if (c === '?') {
        if (sawHeader || !/^<\?xml[\s?]/.test(joined.slice(i, i + 6)) && joined.length - i >= 6) {
          return fail('restricted-xml', 'processing instruction');
        }
      } else {
        sawHeader = true;
      }
    }
    tail = joined.slice(-8).includes('<') ? joined.slice(joined.lastIndexOf('<')) : '';
    if (tail.length > 16) tail = '';
  };

  const decode = (chunk: Buffer): string => {
    if (decoder === null && isAscii(chunk)) return chunk.toString('latin1');
    decoder ??= new TextDecoder('utf-8', { fatal: true });
    return decoder.decode(chunk, { stream: true });
  };

  /** Count `<` in what the lexer was given; an XML declaration `<?` counts as a finished tag. */
  const countLts = (s: string): void => {
    if (ltAtEnd && s.charCodeAt(0) === 63) tags++;
    ltAtEnd = false;
    for (let i = s.indexOf('<'); i !== -1; i = s.indexOf('<', i + 1)) {
      lts++;
      if (i + 1 === s.length) ltAtEnd = true;
      else if (s.charCodeAt(i + 1) === 63) tags++;
    }
  };

  return {
    write(chunk) {
      events = [];
      if (dead) return events;
      let s: string;
      try {
        s = carry + (typeof chunk === 'string' ? chunk : decode(chunk));
      } catch {
        fail('unsupported-encoding', 'invalid UTF-8');
        return events;
      }
      const held = /[?\]]+$/.exec(s);
      carry = held ? held[0] : '';
      if (held) s = s.slice(0, held.index);
      if (carry.length > 4096) {
        fail('not-well-formed', 'run of ? or ]');
        return events;
      }
      guard(s);
      if (dead) return events;
      bytesSinceStanza += Buffer.byteLength(s);
      countLts(s);
      try {
        sax.write(s);
      } catch (err) {
        fail('not-well-formed', (err as Error).message);
      }
      // A multi-byte character cut at the end of the chunk would still sit in the decoder.
      const whole = typeof chunk === 'string' || chunk.length === 0 || (chunk[chunk.length - 1] ?? 0) < 0x80;
      boundary = !dead && stack.length === 0 && streamName !== null && carry === '' && whole && lts === tags;
      if (boundary) lts = tags = 0;
      // Text or a tag that never ends is buffered inside the lexer: bound that too.
      if (!dead && bytesSinceStanza > opts.maxStanzaBytes * 2 + 4096) fail('policy-violation', 'stanza too large');
      return events;
    },
    atBoundary: () => boundary,
    setMaxStanzaBytes(n) {
      opts.maxStanzaBytes = n;
    },
    reset() {
      sax.removeAllListeners();
      dead = false;
      fresh();
    },
  };
}
