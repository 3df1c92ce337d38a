/**
 * Stream errors (RFC 6120 §4.9) and stanza errors (RFC 6120 §8.3): the conditions we use, and
 * builders for the XML. A stream error is fatal: the server sends it, then `</stream:stream>`, then
 * closes the TCP connection (§4.9.1.1).
 */
import { type XmlEl, x } from './xml.js';

export const NS_STREAMS = 'http://etherx.jabber.org/streams';
export const NS_XMPP_STREAMS = 'urn:ietf:params:xml:ns:xmpp-streams';
export const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

/** RFC 6120 §4.9.3 conditions Vigil sends. */
export type StreamErrorCondition =
  | 'bad-format'
  | 'conflict' // §4.9.3.3: a new stream with the same full JID replaced this one
  | 'connection-timeout' // §4.9.3.4: ping timeout (ejabberd/Prosody/Openfire all use it)
  | 'host-unknown' // §4.9.3.6
  | 'invalid-namespace' // §4.9.3.10
  | 'internal-server-error' // §4.9.3.9
  | 'invalid-xml'
  | 'not-authorized' // §4.9.3.12
  | 'not-well-formed' // §4.9.3.13
  | 'policy-violation' // §4.9.3.14: stanza too large, too many connections, kicked
  | 'reset'
  | 'resource-constraint'
  | 'restricted-xml' // §4.9.3.18
  | 'system-shutdown' // §4.9.3.20
  | 'undefined-condition'
  | 'unsupported-encoding' // §4.9.3.22: invalid UTF-8
  | 'unsupported-stanza-type' // §4.9.3.23
  | 'unsupported-version'; // §4.9.3.25

/** RFC 6120 §4.9.2: the condition, an application-specific element (`extra`, §4.9.4), the text. */
export function streamError(condition: StreamErrorCondition, textMsg?: string, extra?: XmlEl): XmlEl {
  return x(
    'stream:error',
    {},
    x(condition, { xmlns: NS_XMPP_STREAMS }),
    extra ?? null,
    textMsg ? x('text', { xmlns: NS_XMPP_STREAMS, 'xml:lang': 'en' }, textMsg) : null,
  );
}

/** RFC 6120 §8.3.3 conditions with their default error type (§8.3.2). */
const STANZA_ERROR_TYPES = {
  'bad-request': 'modify',
  conflict: 'cancel',
  'feature-not-implemented': 'cancel',
  forbidden: 'auth',
  'internal-server-error': 'cancel',
  'item-not-found': 'cancel',
  'jid-malformed': 'modify',
  'not-acceptable': 'modify',
  'not-allowed': 'cancel',
  'not-authorized': 'auth',
  'policy-violation': 'modify',
  'recipient-unavailable': 'wait',
  'remote-server-not-found': 'cancel',
  'resource-constraint': 'wait',
  'service-unavailable': 'cancel',
  'undefined-condition': 'cancel',
  'unexpected-request': 'wait',
} as const;

export type StanzaErrorCondition = keyof typeof STANZA_ERROR_TYPES;

export function stanzaErrorEl(condition: StanzaErrorCondition, textMsg?: string): XmlEl {
  return x(
    'error',
    { type: STANZA_ERROR_TYPES[condition] },
    x(condition, { xmlns: NS_STANZAS }),
    textMsg ? x('text', { xmlns: NS_STANZAS, 'xml:lang': 'en' }, textMsg) : null,
  );
}

/**
 * The error reply to a stanza (RFC 6120 §8.3.1): same name and id, `to`/`from` swapped, type
 * error, the original payload kept (optional, helps clients match), plus the <error/>.
 */
export function errorReply(stanza: XmlEl, condition: StanzaErrorCondition, textMsg?: string): XmlEl {
  return x(
    stanza.name,
    { id: stanza.attrs.id, type: 'error', to: stanza.attrs.from, from: stanza.attrs.to },
    stanza.children.filter((c) => typeof c !== 'string' && c.name !== 'error'),
    stanzaErrorEl(condition, textMsg),
  );
}

/** The first defined condition inside an <error/> child, if any. */
export function errorCondition(stanza: XmlEl): string | undefined {
  const err = stanza.children.find((c): c is XmlEl => typeof c !== 'string' && c.name === 'error');
  const cond = err?.children.find((c): c is XmlEl => typeof c !== 'string' && c.attrs.xmlns === NS_STANZAS && c.name !== 'text');
  return cond?.name;
}
