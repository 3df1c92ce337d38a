/**
 * XEP-0199 XMPP Ping. Client pings to the server, to the user's own bare JID or without `to` are
 * answered with an empty result (§4.2); the server's own pings to idle clients are built here and
 * their answers classified (§4.1, §6: any reply is proof of life; service-unavailable means
 * "alive, does not support ping").
 */
import type { ProbeAnswer } from '../liveness/types.js';
import { errorCondition } from './stream-errors.js';
import { type XmlEl, x } from './xml.js';

export const NS_PING = 'urn:xmpp:ping';

/** §4.2: a ping is an IQ-get; anything else in this namespace is a bad request. */
export function handlePing(iq: XmlEl): XmlEl | 'bad-request' {
  if (iq.attrs.type !== 'get') return 'bad-request';
  return x('iq', { type: 'result', id: iq.attrs.id, to: iq.attrs.from, from: iq.attrs.to });
}

/** §4.1: the server-to-client ping, from the bare domain to the full JID. */
export function serverPing(domain: string, fullJid: string, id: string): XmlEl {
  return x('iq', { type: 'get', id, from: domain, to: fullJid }, x('ping', { xmlns: NS_PING }));
}

/** §4.1, §6: result -> pong; service-unavailable -> unsupported; any other error -> pong. */
export function classifyPingReply(reply: XmlEl): ProbeAnswer {
  if (reply.attrs.type === 'error' && errorCondition(reply) === 'service-unavailable') return 'unsupported';
  return 'pong';
}

/** Our pings a session may have unanswered; an older one is forgotten (its answer is then an ordinary stanza). */
const MAX_PENDING = 8;

/** Note the id of a ping we sent, oldest first; the list is made at the first ping. */
export function notePing(pending: string[] | null, id: string): string[] {
  const list = pending ?? [];
  list.push(id);
  if (list.length > MAX_PENDING) list.shift();
  return list;
}

/**
 * Is (`id`, `to`) the answer to one of our pings (id pending, addressed to the domain, the bare JID
 * or nobody)? Then it is no longer pending.
 */
export function takePing(pending: string[] | null, s: { host: string; bare: string }, id: string, to: string | undefined): boolean {
  const at = pending?.indexOf(id) ?? -1;
  if (at === -1 || !(to === undefined || to === s.host || to === s.bare)) return false;
  pending?.splice(at, 1);
  return true;
}
