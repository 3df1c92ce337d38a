/**
 * XEP-0030 Service Discovery for the server domain and for account (bare) JIDs.
 * §3.1: a disco#info result has at least one identity and the feature disco#info itself;
 * §4: disco#items with nothing to list is an empty <query/>, not an error.
 */
import { type XmlEl, x } from './xml.js';
import { NS_PING } from './ping.js';
import { NS_CSI, NS_SM } from './stream-mgmt/protocol.js';

export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
export const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';
export const NS_ROSTER = 'jabber:iq:roster';

/** What the server domain supports (kept in sync with the IQ handler table by a test). */
export const SERVER_FEATURES = [NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, NS_ROSTER] as const;
/** Stream features also listed in the server's disco#info (XEP-0198 when offered on the host, XEP-0352). */
export const streamFeatures = (sm: boolean): string[] => (sm ? [NS_SM, NS_CSI] : [NS_CSI]);
/** What the server answers on behalf of an account (bare JID). */
export const ACCOUNT_FEATURES = [NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING] as const;

const result = (iq: XmlEl, query: XmlEl): XmlEl =>
  x('iq', { type: 'result', id: iq.attrs.id, to: iq.attrs.from, from: iq.attrs.to }, query);

export function discoInfo(iq: XmlEl, node: string | undefined, kind: 'server' | 'account', extra: readonly string[] = []): XmlEl | 'item-not-found' {
  if (node !== undefined) return 'item-not-found';
  const identity =
    kind === 'server' ? x('identity', { category: 'server', type: 'im', name: 'Vigil' }) : x('identity', { category: 'account', type: 'registered' });
  const features = [...(kind === 'server' ? SERVER_FEATURES : ACCOUNT_FEATURES), ...extra].map((v) => x('feature', { var: v }));
  return result(iq, x('query', { xmlns: NS_DISCO_INFO }, identity, features));
}

export function discoItems(iq: XmlEl, node: string | undefined): XmlEl | 'item-not-found' {
  if (node !== undefined) return 'item-not-found';
  return result(iq, x('query', { xmlns: NS_DISCO_ITEMS }));
}
