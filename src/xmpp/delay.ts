/**
 * XEP-0203 Delayed Delivery: a stanza the server hands over later than it got it carries
 * <delay xmlns='urn:xmpp:delay' from='domain' stamp='…'>reason</delay> with the original time
 * (XEP-0198 §4 for resent unacknowledged stanzas, ejabberd's "Resent"; XEP-0352 for presence held
 * while the client was inactive, ejabberd's "Client Inactive"). A copy: the stanza may be shared.
 */
import { type XmlEl, x } from './xml.js';

export const NS_DELAY = 'urn:xmpp:delay';

export function withDelay(el: XmlEl, from: string, at: number, reason: string): XmlEl {
  // XEP-0082 DateTime in UTC (milliseconds are allowed).
  return x(el.name, el.attrs, el.children, x('delay', { xmlns: NS_DELAY, from, stamp: new Date(at).toISOString() }, reason));
}
