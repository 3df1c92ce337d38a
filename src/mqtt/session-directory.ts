/**
 * Where sessions live between connections: the seam for the session core issue (persistent
 * sessions, offline queues, expiry, durable store). The broker asks it to open a session at
 * CONNECT, hands it deliveries for clients that are offline, and tells it when a connection ends.
 *
 * MemorySessionDirectory: sessions in a map per host; a session outlives its connection when its
 * expiry is > 0 (v3 clean session 0, v5 Session Expiry Interval), without expiring yet; offline
 * deliveries are dropped and counted (no offline queue yet).
 */
import { MemorySession, type Session } from './session.js';
import type { Delivery } from './message.js';

export interface OpenedSession {
  session: Session;
  /** Session Present [MQTT-3.2.2-2/3]. */
  present: boolean;
  /** The session that was discarded (clean start over an old one): its subscriptions leave the trie. */
  discarded: Session | null;
}

export interface SessionDirectory {
  /** Resume (clean start 0 and a session exists) or create the session of `clientId`. */
  open(host: string, clientId: string, cleanStart: boolean, expiryS: number): OpenedSession;
  /** The connection of `session` ended; returns true when the session ended with it. */
  release(session: Session, expiryS: number): boolean;
  /** A message for a subscriber whose session has no connection. */
  offline(host: string, clientId: string, d: Delivery): void;
  /** Deliveries dropped because their session was offline (all hosts). */
  readonly offlineDropped: number;
}

export class MemorySessionDirectory implements SessionDirectory {
  private readonly sessions = new Map<string, Session>();
  offlineDropped = 0;

  /** Sessions held (connected or persistent), for leak checks. */
  get size(): number {
    return this.sessions.size;
  }

  private static key(host: string, clientId: string): string {
    return `${host}\u0000${clientId}`;
  }

  open(host: string, clientId: string, cleanStart: boolean, expiryS: number): OpenedSession {
    const k = MemorySessionDirectory.key(host, clientId);
    const old = this.sessions.get(k);
    if (old && !cleanStart) {
      old.persistent = expiryS > 0;
      return { session: old, present: true, discarded: null };
    }
    const session = new MemorySession(host, clientId, expiryS > 0);
    this.sessions.set(k, session);
    return { session, present: false, discarded: old ?? null };
  }

  release(session: Session, expiryS: number): boolean {
    if (expiryS > 0) {
      session.persistent = true;
      return false;
    }
    const k = MemorySessionDirectory.key(session.host, session.clientId);
    if (this.sessions.get(k) === session) this.sessions.delete(k);
    return true;
  }

  offline(_host: string, _clientId: string, _d: Delivery): void {
    this.offlineDropped++;
  }
}
