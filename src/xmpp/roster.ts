/**
 * Roster management (RFC 6121 §2): get, set, remove, and pushes to interested resources.
 *
 * Invariants: the client may not set `subscription` other than "remove" (§2.3.3) nor `ask`;
 * an item that only records an inbound request nobody approved yet is not shown (§3.1.3: the
 * contact's server does not add the requester to the roster); a push goes to every interested
 * resource of the user (§2.1.6), not only the one that changed the roster.
 */
import { tryParseJid, formatJid } from '../jid.js';
import type { RosterItem } from '../store/types.js';
import { NS_ROSTER } from './disco.js';
import type { C2sSession } from './c2s-session.js';
import type { XmppWorld } from './world.js';
import { type XmlEl, childrenOf, child, text, x } from './xml.js';
import type { StanzaErrorCondition } from './stream-errors.js';

export function isHidden(item: RosterItem): boolean {
  return (
    item.subscription === 'none' && !item.askOut && (item.pendingIn || item.approved) && item.name === null && item.groups.length === 0
  );
}

export function itemXml(item: RosterItem): XmlEl {
  return x(
    'item',
    { jid: item.jid, name: item.name ?? undefined, subscription: item.subscription, ask: item.askOut ? 'subscribe' : undefined },
    item.groups.map((g) => x('group', {}, g)),
  );
}

export function emptyItem(jid: string): RosterItem {
  return { jid, name: null, subscription: 'none', askOut: false, pendingIn: false, approved: false, groups: [] };
}

/** §2.1.6: push one changed item (or a removal) to every interested resource of the user. */
export function pushRoster(world: XmppWorld, host: string, user: string, item: RosterItem | { jid: string; removed: true }): void {
  const bare = `${user}@${host}`;
  const itemEl = 'removed' in item ? x('item', { jid: item.jid, subscription: 'remove' }) : itemXml(item);
  if (!('removed' in item) && isHidden(item)) return;
  for (const s of world.router.sessionsOf(bare)) {
    if (!s.interested) continue;
    s.send(x('iq', { type: 'set', id: world.newId(), to: s.jid }, x('query', { xmlns: NS_ROSTER }, itemEl)));
  }
}

export type RosterOutcome = { reply: XmlEl; after?: () => void } | StanzaErrorCondition;

/** §2.2 roster get (no versioning: we do not advertise ver). */
export function handleRosterGet(world: XmppWorld, s: C2sSession, iq: XmlEl): RosterOutcome {
  s.interested = true;
  const items = world.rosters.list(s.host, s.user).filter((i) => !isHidden(i));
  return { reply: x('iq', { type: 'result', id: iq.attrs.id, to: s.jid }, x('query', { xmlns: NS_ROSTER }, items.map(itemXml))) };
}

/**
 * §2.3 roster set / §2.5 remove. `unsubscribeBoth` is called for a removed item that had a
 * subscription, so the caller can send the unsubscribe/unsubscribed pair (§2.5.2).
 */
export function handleRosterSet(
  world: XmppWorld,
  s: C2sSession,
  iq: XmlEl,
  onRemove: (item: RosterItem) => void,
): RosterOutcome {
  const query = child(iq, 'query', NS_ROSTER);
  const items = query ? childrenOf(query, 'item') : [];
  // §2.3.3: exactly one item.
  if (!query || items.length !== 1 || !items[0]) return 'bad-request';
  const el = items[0];
  const parsed = tryParseJid(el.attrs.jid ?? '');
  if (!parsed || parsed.resource !== null) return 'bad-request';
  const jid = formatJid(parsed);
  const selfBare = `${s.user}@${s.host}`;
  if (jid === selfBare) return 'not-allowed';
  const existing = world.rosters.get(s.host, s.user, jid);
  const reply = x('iq', { type: 'result', id: iq.attrs.id, to: s.jid });
  if (el.attrs.subscription === 'remove') {
    if (!existing) return 'item-not-found';
    world.rosters.delete(s.host, s.user, jid);
    return {
      reply,
      after: () => {
        pushRoster(world, s.host, s.user, { jid, removed: true });
        onRemove(existing);
      },
    };
  }
  if (el.attrs.subscription !== undefined && el.attrs.subscription !== 'none') return 'bad-request';
  const groups = [...new Set(childrenOf(el, 'group').map((g) => text(g)))];
  if (groups.some((g) => g === '')) return 'not-acceptable';
  // max_roster_size: a new item past the limit is refused (RFC 6121 §2.3.3 lets a server limit the roster).
  if (!existing && rosterFull(world, s.host, s.user)) return 'not-allowed';
  const item: RosterItem = { ...(existing ?? emptyItem(jid)), name: el.attrs.name ?? null, groups };
  world.rosters.put(s.host, s.user, item);
  return { reply, after: () => pushRoster(world, s.host, s.user, item) };
}

/** The user's roster holds max_roster_size items already (counted as a limit hit). */
export function rosterFull(world: XmppWorld, host: string, user: string): boolean {
  const full = world.rosters.list(host, user).length >= world.maxRosterSize(host);
  if (full) world.countLimit('max_roster_size');
  return full;
}
