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
 * `unsupported-encoding`, §4.9.3.22, §11.6), and a trailing run of `?` or `]` is held back until
 * the next read, because the ltx lexer only sees the `?>` of the XML declaration and the `]]>` of
 * CDATA when they arrive in one piece.
 */
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
  let decoder = new TextDecoder('utf-8', { fatal: true });
  /** Held back from the last read: a trailing run of `?` / `]` (see the header). */
  let carry = '';

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
    decoder = new TextDecoder('utf-8', { fatal: true });
    carry = '';
    sax.on('startElement', (name: string, attrs: Record<string, string>) => {
      if (dead) return;
      if (streamName === null) {
        if (stack.length === 0 && events.some((e) => e.type === 'close')) return fail('not-well-formed', 'content after stream close');
        streamName = name;
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
    sax.on('endElement', (name: string) => {
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

  return {
    write(chunk) {
      events = [];
      if (dead) return events;
      let s: string;
      try {
        s = carry + (typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
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
      try {
        sax.write(s);
      } catch (err) {
        fail('not-well-formed', (err as Error).message);
      }
      // Text or a tag that never ends is buffered inside the lexer: bound that too.
      if (!dead && bytesSinceStanza > opts.maxStanzaBytes * 2 + 4096) fail('policy-violation', 'stanza too large');
      return events;
    },
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
