/**
 * What becomes of the stanzas a session sent and the client never acknowledged, when the session
 * ends without resumption (XEP-0198 §4: "treat unacknowledged stanzas in the same way that it
 * would treat a stanza sent to an unavailable resource"), per `resend_on_timeout` as ejabberd's
 * mod_stream_mgmt does:
 *
 *   presence          dropped (the sender's presence is current anyway)
 *   iq get/set        service-unavailable to the sender (RFC 6120 §8.3.3.19); results and errors dropped
 *   message           'true': delivered again with a "Resent" delay (XEP-0203) to the full JID when
 *                       it is bound anew, else to the bare JID's available resources (RFC 6121 §8.5);
 *                     'if_offline': the same, only when the user has no other session left;
 *                     'false', or nothing took it: service-unavailable to the sender
 *                     (no offline storage); error and groupchat messages are never bounced.
 *
 * Runs after the session was unbound, so it never hands a stanza back to itself.
 */
import { withDelay } from '../delay.js';
import { errorReply } from '../stream-errors.js';
import type { XmppWorld } from '../world.js';
import type { XmlEl } from '../xml.js';

export type ResendOnTimeout = 'false' | 'true' | 'if_offline';

const bareOf = (jid: string) => {
  const slash = jid.indexOf('/');
  return slash < 0 ? jid : jid.slice(0, slash);
};

/** Send `err` to the sender of the failed stanza, when it is a session here. */
function bounce(world: XmppWorld, el: XmlEl): void {
  const from = el.attrs.from;
  if (from === undefined) return;
  world.router.get(from)?.send(errorReply(el, 'service-unavailable', 'user session terminated'));
}

/** Deliver a message again (its `to` may be the full JID, bound anew, or any resource of the bare JID). */
function redeliver(world: XmppWorld, el: XmlEl, host: string, at: number): boolean {
  const to = el.attrs.to ?? '';
  const again = withDelay(el, host, at, 'Resent');
  const full = world.router.get(to);
  if (full) {
    full.send(again);
    return true;
  }
  return world.router.deliverMessageToBare(bareOf(to), again);
}

/**
 * Route the unacknowledged stanzas of the ended session `jid` (bare `bare`, on `host`).
 * `mode` is the host's resend_on_timeout ('false' after a max_ack_queue overflow).
 */
export function routeUnacked(world: XmppWorld, s: { jid: string; bare: string; host: string }, held: { el: XmlEl; at: number }[], mode: ResendOnTimeout): void {
  if (held.length === 0) return;
  // ejabberd's if_offline: no session of the user left, or only the same resource bound anew.
  const others = world.router.sessionsOf(s.bare).filter((o) => o.jid !== s.jid);
  const resend = mode === 'true' || (mode === 'if_offline' && others.length === 0);
  for (const { el, at } of held) {
    const type = el.attrs.type;
    if (el.name === 'iq') {
      if (type === 'get' || type === 'set') bounce(world, el);
    } else if (el.name === 'message') {
      if (type === 'error' || type === 'groupchat') continue;
      if (resend && redeliver(world, el, s.host, at)) continue;
      if (type !== 'headline') bounce(world, el);
    }
    // presence: dropped
  }
}
