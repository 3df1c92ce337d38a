/**
 * Presence broadcast (RFC 6121 §4): initial, subsequent, unavailable and directed presence.
 *
 *   initial (no `to`, no type, session not yet available) -> to contacts with subscription
 *     from/both and to all of the user's available resources including this one (§4.2.2);
 *     then "probes" the to/both contacts: their available resources' last presence comes back
 *     (§4.2.2, answered locally since every contact of ours is local), and pending inbound
 *     subscription requests are redelivered (§3.1.3).
 *   subsequent (§4.4.2) -> contacts from/both and own resources.
 *   unavailable (§4.5.2), also on close/kill/socket loss -> the same, plus every entity that got
 *     directed presence (§4.6.3); the session becomes connected-not-available.
 *   directed (`to` set, §4.6) -> that entity only, and remembered for the unavailable.
 */
import { formatJid, tryParseJid } from '../jid.js';
import type { Show } from '../presence/types.js';
import type { RosterItem } from '../store/types.js';
import type { C2sSession } from './c2s-session.js';
import type { XmppWorld } from './world.js';
import { type XmlEl, childText, withAttrs, x } from './xml.js';

const SHOWS: readonly string[] = ['chat', 'away', 'dnd', 'xa'];

/** Contacts (bare JIDs) whose subscription means they receive the user's presence. */
function watchers(world: XmppWorld, s: C2sSession, roster = world.rosters.list(s.host, s.user)): string[] {
  return roster
    .filter((i) => i.subscription === 'from' || i.subscription === 'both')
    .map((i) => i.jid);
}

function deliverToBareOrFull(world: XmppWorld, to: string, el: XmlEl): void {
  const j = tryParseJid(to);
  if (!j || !world.isLocalDomain(j.domain)) return; // no s2s: remote contacts are not reachable
  if (j.resource !== null) world.router.get(formatJid(j))?.send(el);
  else world.router.deliverPresenceToBare(formatJid(j), el);
}

function broadcast(world: XmppWorld, s: C2sSession, el: XmlEl, extra: Iterable<string> = [], roster?: RosterItem[]): void {
  const targets = new Set<string>([...watchers(world, s, roster), ...extra]);
  targets.delete(s.bare);
  for (const t of targets) deliverToBareOrFull(world, t, withAttrs(el, { to: t }));
  for (const own of world.router.availableOf(s.bare)) own.send(withAttrs(el, { to: own.jid }));
}

function parsePriority(el: XmlEl): number {
  const p = Number.parseInt(childText(el, 'priority') ?? '0', 10);
  return Number.isFinite(p) ? Math.max(-128, Math.min(127, p)) : 0;
}

function report(world: XmppWorld, s: C2sSession, el: XmlEl | null): void {
  if (!s.ref) return;
  if (!el) {
    world.setAvailability(s.ref, { available: false, show: null, status: null, priority: null });
    return;
  }
  const show = childText(el, 'show');
  world.setAvailability(s.ref, {
    available: true,
    show: show !== undefined && SHOWS.includes(show) ? (show as Show) : null,
    status: childText(el, 'status') ?? null,
    priority: parsePriority(el),
  });
}

/** Broadcast presence from a client: `el` has `from` stamped and no `to`. */
export function handleBroadcastPresence(world: XmppWorld, s: C2sSession, el: XmlEl): void {
  if (el.attrs.type === 'unavailable') return goUnavailable(world, s, el);
  if (el.attrs.type !== undefined) return; // probe/error from a client: nothing to do (§4.3)
  const initial = !s.presence.available;
  const stored = withAttrs(el, { to: undefined });
  s.presence.available = true;
  s.presence.last = stored;
  s.presence.priority = parsePriority(el);
  report(world, s, el);
  // One roster read (a store query) serves the broadcast and, for initial presence, the probes.
  const roster = world.rosters.list(s.host, s.user);
  broadcast(world, s, stored, [], roster);
  if (!initial) return;
  for (const item of roster) {
    if (item.subscription === 'to' || item.subscription === 'both') {
      for (const c of world.router.availableOf(item.jid)) {
        if (c.presence.last) s.send(withAttrs(c.presence.last, { to: s.jid }));
      }
    }
    if (item.pendingIn) s.send(x('presence', { type: 'subscribe', from: item.jid, to: s.bare }));
  }
  // The user's other available resources are "contacts" too (§4.2.2, §4.2.4).
  for (const other of world.router.availableOf(s.bare)) {
    if (other !== s && other.presence.last) s.send(withAttrs(other.presence.last, { to: s.jid }));
  }
}

/** §4.5.2 / §4.6.3: unavailable to watchers, own resources and directed-presence recipients. */
export function goUnavailable(world: XmppWorld, s: C2sSession, el?: XmlEl): void {
  if (!s.presence.available && s.presence.directed.size === 0) return;
  const out = x('presence', { type: 'unavailable', from: s.jid }, el ? el.children : []);
  const directed = [...s.presence.directed];
  const wasAvailable = s.presence.available;
  s.presence.available = false;
  s.presence.last = null;
  s.presence.directed.clear();
  if (wasAvailable) {
    broadcast(world, s, out, directed);
    report(world, s, null);
  } else {
    for (const t of directed) deliverToBareOrFull(world, t, withAttrs(out, { to: t }));
  }
}

/** §4.6: presence with a `to` and no type (or unavailable): deliver and remember. */
export function handleDirectedPresence(world: XmppWorld, s: C2sSession, el: XmlEl, to: string): void {
  if (el.attrs.type === 'unavailable') s.presence.directed.delete(to);
  else if (s.presence.available) s.presence.directed.add(to);
  deliverToBareOrFull(world, to, el);
}
