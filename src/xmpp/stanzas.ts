/**
 * What happens to each stanza a bound client sends: the flat dispatcher.
 *
 * 1. The server stamps `from` with the session's full JID (RFC 6120 §8.1.2.1: no spoofing).
 * 2. IQ get/set to the server, to the user's own bare JID or with no `to` is handled here through
 *    the handler table; every one gets exactly one result or error, unknown payloads
 *    service-unavailable (RFC 6120 §8.2.3, §8.4). IQ to another local account's bare JID: disco
 *    and ping answered for the account (XEP-0030 §3.1, XEP-0199 §4.4), else service-unavailable.
 * 3. Everything else is delivered locally per RFC 6121 §8.5; other domains get
 *    remote-server-not-found (no s2s).
 */
import { formatJid, tryParseJid } from '../jid.js';
import { NS_DISCO_INFO, NS_DISCO_ITEMS, NS_ROSTER, discoInfo, discoItems, streamFeatures } from './disco.js';
import { NS_SESSION } from './negotiation.js';
import { NS_PING, handlePing } from './ping.js';
import { goUnavailable, handleBroadcastPresence, handleDirectedPresence } from './presence-broadcast.js';
import { cancelOnRemove, handleSubscription, isSubscriptionType } from './presence-subscription.js';
import { handleRosterGet, handleRosterSet } from './roster.js';
import type { C2sSession } from './c2s-session.js';
import { type StanzaErrorCondition, errorReply } from './stream-errors.js';
import type { XmppWorld } from './world.js';
import { type XmlEl, isEl, withAttrs, x } from './xml.js';

type Target = 'self' | 'server' | 'other-bare' | 'full' | 'remote';
type IqOutcome = XmlEl | StanzaErrorCondition | { reply: XmlEl; after?: () => void };
type IqHandler = (world: XmppWorld, s: C2sSession, iq: XmlEl, payload: XmlEl, target: Target) => IqOutcome;

const key = (ns: string, name: string) => `${ns} ${name}`;

/** The IQ handler table: payload namespace + element name -> handler. */
export const IQ_HANDLERS = new Map<string, IqHandler>([
  // XEP-0199 §4.2/§4.4: answered for the server, the own account and other existing accounts.
  [key(NS_PING, 'ping'), (w, _s, iq, _p, t) => (t === 'server' ? handlePing(iq) : accountOnly(w, iq, t, () => handlePing(iq)))],
  [
    key(NS_DISCO_INFO, 'query'),
    (w, s, iq, p, t) => (t === 'server' ? discoInfo(iq, p.attrs.node, 'server', streamFeatures(w.smOffered(s.host))) : accountOnly(w, iq, t, () => discoInfo(iq, p.attrs.node, 'account'))),
  ],
  [key(NS_DISCO_ITEMS, 'query'), (w, _s, iq, p, t) => (t === 'server' ? discoItems(iq, p.attrs.node) : accountOnly(w, iq, t, () => discoItems(iq, p.attrs.node)))],
  [
    key(NS_ROSTER, 'query'),
    (w, s, iq, _p, t) => {
      if (t !== 'self') return 'service-unavailable';
      if (iq.attrs.type === 'get') return handleRosterGet(w, s, iq);
      return handleRosterSet(w, s, iq, (item) => cancelOnRemove(w, s, item));
    },
  ],
  // RFC 3921 §3 legacy session establishment: an empty result (RFC 6121 Appendix E).
  [key(NS_SESSION, 'session'), (_w, s, iq) => x('iq', { type: 'result', id: iq.attrs.id, to: s.jid })],
]);

/** Answer for an account: own bare JID always; another existing local account too (no leak: both answered alike). */
function accountOnly(world: XmppWorld, iq: XmlEl, t: Target, answer: () => XmlEl | StanzaErrorCondition): IqOutcome {
  if (t === 'self') return answer();
  const j = tryParseJid(iq.attrs.to ?? '');
  if (t === 'other-bare' && j?.local && world.users.get(j.domain, j.local)) return answer();
  return 'service-unavailable';
}

function targetOf(world: XmppWorld, s: C2sSession, to: string | undefined): { target: Target; jid: string } | 'jid-malformed' {
  if (to === undefined) return { target: 'self', jid: s.bare };
  const j = tryParseJid(to);
  if (!j) return 'jid-malformed';
  const jid = formatJid(j);
  if (!world.isLocalDomain(j.domain)) return { target: 'remote', jid };
  if (j.local === null && j.resource === null) return { target: 'server', jid };
  if (j.resource !== null) return { target: 'full', jid };
  return { target: jid === s.bare ? 'self' : 'other-bare', jid };
}

function handleIq(world: XmppWorld, s: C2sSession, iq: XmlEl, target: Target, jid: string): void {
  const type = iq.attrs.type;
  if (type === 'result' || type === 'error') {
    // Replies to another client's request are routed to it; replies to us (roster push acks) end here.
    if (target === 'full') world.router.get(jid)?.send(iq);
    return;
  }
  const payloads = iq.children.filter(isEl);
  // RFC 6120 §8.2.3: get/set carries exactly one payload; an unknown type is bad-request.
  if ((type !== 'get' && type !== 'set') || payloads.length !== 1 || iq.attrs.id === undefined) {
    return s.send(errorReply(iq, 'bad-request'));
  }
  if (target === 'remote') return s.send(errorReply(iq, 'remote-server-not-found'));
  if (target === 'full') {
    const dest = world.router.get(jid);
    if (dest) return dest.send(iq);
    return s.send(errorReply(iq, 'service-unavailable'));
  }
  const payload = payloads[0] as XmlEl;
  const handler = IQ_HANDLERS.get(key(payload.attrs.xmlns ?? '', payload.name));
  const outcome = handler ? handler(world, s, iq, payload, target) : 'service-unavailable';
  if (typeof outcome === 'string') return s.send(errorReply(iq, outcome));
  if ('reply' in outcome) {
    s.send(outcome.reply);
    outcome.after?.();
    return;
  }
  s.send(outcome);
}

function handleMessage(world: XmppWorld, s: C2sSession, el: XmlEl, target: Target, jid: string): void {
  const type = el.attrs.type ?? 'normal';
  if (target === 'remote') {
    if (type !== 'error') s.send(errorReply(el, 'remote-server-not-found'));
    return;
  }
  if (target === 'server') return; // nothing here takes messages
  const full = target === 'full' ? world.router.get(jid) : undefined;
  if (full) return full.send(el);
  const bare = target === 'full' ? jid.slice(0, jid.indexOf('/')) : jid;
  if (type === 'groupchat' || type === 'error') return; // §8.5.2.1.1 / no offline storage for errors
  const delivered = world.router.deliverMessageToBare(bare, withAttrs(el, { to: el.attrs.to ?? bare }));
  // §8.5.2.2.1: no available resource and no offline storage -> service-unavailable (not for headline).
  if (!delivered && type !== 'headline') s.send(errorReply(el, 'service-unavailable'));
}

function handlePresence(world: XmppWorld, s: C2sSession, el: XmlEl, target: Target | null, jid: string): void {
  const type = el.attrs.type;
  if (target === null) return handleBroadcastPresence(world, s, el);
  if (isSubscriptionType(type)) {
    // §3.1.1: subscription stanzas address bare JIDs; the server stamps the bare JID as `from`.
    const bare = jid.includes('/') ? jid.slice(0, jid.indexOf('/')) : jid;
    if (target === 'server' || bare === s.bare) return;
    return handleSubscription(world, s, type, bare, el);
  }
  if (type === undefined || type === 'unavailable') {
    if (target === 'remote' || target === 'server') return;
    return handleDirectedPresence(world, s, el, jid);
  }
  // probe/error from a client: not routed (§4.3: probes are the server's job).
}

/** Entry point for one stanza from a bound session (after liveness touch). */
export function handleClientStanza(world: XmppWorld, s: C2sSession, raw: XmlEl): void {
  const el = withAttrs(raw, { from: s.jid, xmlns: undefined });
  const to = el.attrs.to;
  const t = targetOf(world, s, to);
  if (t === 'jid-malformed') {
    if (el.attrs.type !== 'error' && el.attrs.type !== 'result') s.send(errorReply(el, 'jid-malformed'));
    return;
  }
  switch (el.name) {
    case 'iq':
      return handleIq(world, s, el, t.target, t.jid);
    case 'message':
      return handleMessage(world, s, el, t.target, t.jid);
    case 'presence':
      return handlePresence(world, s, el, to === undefined ? null : t.target, t.jid);
  }
}

/** The session ended (close, kill, socket loss): unavailable goes out at once (§4.5.2). */
export function handleSessionEnd(world: XmppWorld, s: C2sSession): void {
  goUnavailable(world, s);
  world.router.unbind(s);
}
