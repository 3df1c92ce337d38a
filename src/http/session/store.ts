/**
 * Dashboard sessions, held in memory: a random id (the cookie value) maps to its expiry and its
 * CSRF token. The API token itself is never stored in a session nor sent back. Sessions end at
 * `ttlMs` after login (absolute, not sliding), on logout, when `max` is reached (the oldest login
 * goes first, reported through `onEvict`), and on restart (nothing is persisted: a restart logs
 * every dashboard out, which costs one login).
 *
 * Expiry is read against the injected clock on every lookup; expired entries are dropped then and
 * at each login, so no timer is needed. A Map keeps insertion order, which is login order, so the
 * oldest session is the first key.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../time/clock.js';

export interface Session {
  readonly id: string;
  readonly csrfToken: string;
  /** Wall ms. */
  readonly expiresAt: number;
}

export interface SessionStoreOptions {
  clock: Pick<Clock, 'now'>;
  ttlMs: number;
  max: number;
  /** A login beyond `max` ended the oldest session. */
  onEvict?: () => void;
}

/** 32 random bytes, base64url: 43 characters. */
const newSecret = () => randomBytes(32).toString('base64url');
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly opts: SessionStoreOptions) {}

  create(): Session {
    const now = this.opts.clock.now();
    this.dropExpired(now);
    while (this.sessions.size >= this.opts.max) {
      const oldest = this.sessions.keys().next().value as string;
      this.sessions.delete(oldest);
      this.opts.onEvict?.();
    }
    const s: Session = { id: newSecret(), csrfToken: newSecret(), expiresAt: now + this.opts.ttlMs };
    this.sessions.set(s.id, s);
    return s;
  }

  /** The live session with this id, or undefined (unknown, expired or ended). */
  get(id: string): Session | undefined {
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (s.expiresAt <= this.opts.clock.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return s;
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  private dropExpired(now: number): void {
    for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(id);
  }
}
