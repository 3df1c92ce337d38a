/**
 * Session registry and local delivery (RFC 6121 §8.5) for every host of this node.
 *
 * - full JID -> session; bare JID -> its sessions in bind order.
 * - Binding a full JID that is bound already replaces the old session: it is killed with stream
 *   error `conflict` (RFC 6120 §7.7.2.2, ejabberd/Prosody kick_old).
 * - Message to a bare JID: the available resources with the highest non-negative priority
 *   (§8.5.2.1.1); to a full JID that is not bound: treated as to the bare JID (§8.5.3.2.1).
 * - Presence to a bare JID: every available resource (§8.5.2.1.2).
 * - IQ to a full JID that is not bound: service-unavailable (§8.5.3.2.1, XEP-0199 §7).
 */
import type { C2sSession } from './c2s-session.js';
import type { XmlEl } from './xml.js';

export interface Router {
  /** Register a bound session; returns the session it replaced, if any (caller kills it). */
  bind(s: C2sSession): C2sSession | undefined;
  /** Forget a session (only if it is still the one bound to its JID). */
  unbind(s: C2sSession): void;
  get(fullJid: string): C2sSession | undefined;
  /** Sessions of a bare JID, in bind order. */
  sessionsOf(bare: string): C2sSession[];
  /** Available sessions of a bare JID. */
  availableOf(bare: string): C2sSession[];
  /** Deliver a message to a bare JID; false when no resource can take it. */
  deliverMessageToBare(bare: string, el: XmlEl): boolean;
  /** Deliver presence to every available resource of a bare JID. */
  deliverPresenceToBare(bare: string, el: XmlEl): void;
  all(): Iterable<C2sSession>;
  size(): number;
}

export function createRouter(): Router {
  const byFull = new Map<string, C2sSession>();
  const byBare = new Map<string, C2sSession[]>();
  const availableOf = (bare: string) => (byBare.get(bare) ?? []).filter((s) => s.presence.available);
  return {
    bind(s) {
      const old = byFull.get(s.jid);
      if (old) {
        const rest = (byBare.get(old.bare) ?? []).filter((o) => o !== old);
        byBare.set(old.bare, rest);
      }
      byFull.set(s.jid, s);
      const list = byBare.get(s.bare) ?? [];
      list.push(s);
      byBare.set(s.bare, list);
      return old;
    },
    unbind(s) {
      if (byFull.get(s.jid) === s) byFull.delete(s.jid);
      const list = (byBare.get(s.bare) ?? []).filter((o) => o !== s);
      if (list.length) byBare.set(s.bare, list);
      else byBare.delete(s.bare);
    },
    get: (full) => byFull.get(full),
    sessionsOf: (bare) => [...(byBare.get(bare) ?? [])],
    availableOf,
    deliverMessageToBare(bare, el) {
      const type = el.attrs.type ?? 'normal';
      const candidates = availableOf(bare).filter((s) => s.presence.priority >= 0);
      if (candidates.length === 0) return false;
      if (type === 'headline') {
        for (const s of candidates) s.send(el);
        return true;
      }
      const top = Math.max(...candidates.map((s) => s.presence.priority));
      for (const s of candidates) if (s.presence.priority === top) s.send(el);
      return true;
    },
    deliverPresenceToBare(bare, el) {
      for (const s of availableOf(bare)) s.send(el);
    },
    all: () => byFull.values(),
    size: () => byFull.size,
  };
}
