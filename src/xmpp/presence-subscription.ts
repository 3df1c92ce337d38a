/**
 * The subscription handshake (RFC 6121 §3) between two local accounts: subscribe, subscribed,
 * unsubscribe, unsubscribed. Both rosters live in this store, so the user's server and the
 * contact's server steps run together here.
 *
 *   state of U's item for C      U sends subscribe      C sends subscribed       U sends unsubscribe / C sends unsubscribed
 *   none                          none + ask            to                       none
 *   from                          from + ask            both                     from
 *   to / both                     unchanged             unchanged                from / none (to removed)
 *
 * The contact side mirrors it with `from` and the pendingIn flag (§3.1.3); a `subscribed` sent
 * before any request is a pre-approval (§3.4). Every changed item is pushed (§2.1.6). Contacts on
 * other domains are not reachable (no s2s): the user's side is updated, the stanza is dropped.
 */
import type { RosterItem, Subscription } from '../store/types.js';
import { emptyItem, pushRoster, rosterFull } from './roster.js';
import type { C2sSession } from './c2s-session.js';
import type { XmppWorld } from './world.js';
import { type XmlEl, withAttrs, x } from './xml.js';

type SubType = 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed';

export function isSubscriptionType(t: string | undefined): t is SubType {
  return t === 'subscribe' || t === 'subscribed' || t === 'unsubscribe' || t === 'unsubscribed';
}

const hasTo = (s: Subscription) => s === 'to' || s === 'both';
const hasFrom = (s: Subscription) => s === 'from' || s === 'both';
const addTo = (s: Subscription): Subscription => (s === 'from' || s === 'both' ? 'both' : 'to');
const dropTo = (s: Subscription): Subscription => (s === 'both' || s === 'from' ? 'from' : 'none');
const addFrom = (s: Subscription): Subscription => (s === 'to' || s === 'both' ? 'both' : 'from');
const dropFrom = (s: Subscription): Subscription => (s === 'both' || s === 'to' ? 'to' : 'none');

interface Account {
  host: string;
  user: string;
  bare: string;
}

function split(bare: string): Account | null {
  const at = bare.indexOf('@');
  if (at <= 0) return null;
  return { user: bare.slice(0, at), host: bare.slice(at + 1), bare };
}

function update(world: XmppWorld, owner: Account, jid: string, change: (i: RosterItem) => RosterItem | null): void {
  const before = world.rosters.get(owner.host, owner.user, jid);
  // max_roster_size: a subscription that would add an item to a full roster is dropped (a stranger
  // must not grow someone's roster without end with subscription requests).
  if (!before && rosterFull(world, owner.host, owner.user)) return;
  const after = change(before ?? emptyItem(jid));
  if (!after) return;
  if (before && JSON.stringify(before) === JSON.stringify(after)) return;
  world.rosters.put(owner.host, owner.user, after);
  pushRoster(world, owner.host, owner.user, after);
}

/** Send the contact's current presence (or unavailable) from each of its available resources to the user. */
function sendPresenceOf(world: XmppWorld, contactBare: string, toBare: string, available: boolean): void {
  for (const c of world.router.availableOf(contactBare)) {
    const el = available && c.presence.last ? c.presence.last : x('presence', { type: 'unavailable', from: c.jid });
    world.router.deliverPresenceToBare(toBare, withAttrs(el, { to: toBare }));
  }
}

/** Outbound subscription stanza from session `s` to bare JID `to` (already normalised). */
export function handleSubscription(world: XmppWorld, s: C2sSession, type: SubType, to: string, el: XmlEl): void {
  const me: Account = { host: s.host, user: s.user, bare: s.bare };
  const contact = split(to);
  const local = contact !== null && world.isLocalDomain(contact.host) && world.users.get(contact.host, contact.user) !== undefined;
  const stamped = x('presence', { type, from: me.bare, to }, el.children);
  switch (type) {
    case 'subscribe': {
      // §3.1.2: the user's server marks the item pending-out (unless already subscribed).
      update(world, me, to, (i) => (hasTo(i.subscription) ? null : { ...i, askOut: true }));
      if (!local || !contact) return;
      const theirs = world.rosters.get(contact.host, contact.user, me.bare);
      if (theirs && (hasFrom(theirs.subscription) || theirs.approved)) {
        // §3.1.3 / §3.4: already approved -> answer `subscribed` on the contact's behalf.
        update(world, contact, me.bare, (i) => ({ ...i, subscription: addFrom(i.subscription), approved: false, pendingIn: false }));
        update(world, me, to, (i) => ({ ...i, subscription: addTo(i.subscription), askOut: false }));
        world.router.deliverPresenceToBare(me.bare, x('presence', { type: 'subscribed', from: to, to: me.bare }));
        sendPresenceOf(world, to, me.bare, true);
        return;
      }
      update(world, contact, me.bare, (i) => ({ ...i, pendingIn: true }));
      world.router.deliverPresenceToBare(to, stamped);
      return;
    }
    case 'subscribed': {
      const mine = world.rosters.get(me.host, me.user, to);
      if (mine && hasFrom(mine.subscription)) return; // §3.1.5: nothing to approve
      if (!mine?.pendingIn) {
        // §3.4: pre-approval.
        update(world, me, to, (i) => ({ ...i, approved: true }));
        return;
      }
      update(world, me, to, (i) => ({ ...i, subscription: addFrom(i.subscription), pendingIn: false, approved: false }));
      if (!local || !contact) return;
      update(world, contact, me.bare, (i) => ({ ...i, subscription: addTo(i.subscription), askOut: false }));
      world.router.deliverPresenceToBare(to, stamped);
      // §3.1.5: the user's available resources' presence now goes to the new subscriber.
      sendPresenceOf(world, me.bare, to, true);
      return;
    }
    case 'unsubscribe': {
      const mine = world.rosters.get(me.host, me.user, to);
      if (mine) update(world, me, to, (i) => ({ ...i, subscription: dropTo(i.subscription), askOut: false }));
      if (!local || !contact) return;
      const theirs = world.rosters.get(contact.host, contact.user, me.bare);
      if (theirs) update(world, contact, me.bare, (i) => ({ ...i, subscription: dropFrom(i.subscription), pendingIn: false, approved: false }));
      world.router.deliverPresenceToBare(to, stamped);
      // §3.3.3: the user stops seeing the contact: unavailable from the contact's resources.
      sendPresenceOf(world, to, me.bare, false);
      return;
    }
    case 'unsubscribed': {
      const mine = world.rosters.get(me.host, me.user, to);
      if (mine) update(world, me, to, (i) => ({ ...i, subscription: dropFrom(i.subscription), pendingIn: false, approved: false }));
      if (!local || !contact) return;
      const theirs = world.rosters.get(contact.host, contact.user, me.bare);
      if (theirs) update(world, contact, me.bare, (i) => ({ ...i, subscription: dropTo(i.subscription), askOut: false }));
      world.router.deliverPresenceToBare(to, stamped);
      // §3.2.3: the contact no longer receives the user's presence.
      sendPresenceOf(world, me.bare, to, false);
      return;
    }
  }
}

/** §2.5.2: removing an item cancels both directions of the subscription. */
export function cancelOnRemove(world: XmppWorld, s: C2sSession, item: RosterItem): void {
  const none = x('presence');
  if (hasTo(item.subscription) || item.askOut) handleSubscription(world, s, 'unsubscribe', item.jid, none);
  if (hasFrom(item.subscription) || item.pendingIn) handleSubscription(world, s, 'unsubscribed', item.jid, none);
}
