/**
 * Session manager: the sessions of every host, keyed by host + client id, outliving connections
 * (emqttd_sm, EMQX emqx_cm). Pure-ish: it holds state but reads no clock and arms no timer;
 * `nowMs` (wall clock) comes in, effects go out.
 *
 *   open(clean start)     -> any old session discarded, a new one     (Session Present 0)
 *   open(no clean start)  -> the old one resumed, or a new one        (Session Present 1 / 0)
 *                            [MQTT-3.2.2-1..3]; a live connection holding it is the caller's to
 *                            close (takeover [MQTT-3.1.4-2/3]), the session moves to the new one.
 *   close                 -> expiry 0: deleted; otherwise offline until now + expiry
 *   expire(now)           -> offline sessions past their deadline deleted with their queues
 *
 * Expiry: v5 Session Expiry Interval (0xFFFFFFFF = never [MQTT-3.1.2-23 v5]) capped by
 * max_session_expiry; v3 clean session 0: session_expiry (EMQX's 2 h; emqttd had 48 h). The
 * deadline counts from the disconnect, and a v5 DISCONNECT may change the interval (§3.14.2.2.2).
 * Persistent sessions announce themselves to the store (`session_put` / `session_del`); clean
 * sessions never touch it.
 */
import { ExpiryHeap, type Expiring } from './expiry-heap.js';
import { HostMap } from './host-map.js';
import { MqttSession } from './session-state.js';
import type { AttachOptions, Deliverable, SessionEffect, SessionFigures, SessionLimits } from './types.js';

export interface SessionKey {
  host: string;
  clientId: string;
}

/** What the store keeps about a persistent session besides its contents. */
export interface SessionMeta {
  /** Expiry interval in ms after a disconnect, null = never. */
  expiryMs: number | null;
  /** Wall ms at which the (offline) session expires, null while connected or never. */
  expiresAt: number | null;
}

export type ManagerEffect<M> =
  | { type: 'session'; key: SessionKey; effect: SessionEffect<M> }
  | { type: 'session_put'; key: SessionKey; meta: SessionMeta }
  | { type: 'session_del'; key: SessionKey }
  /** The next expiry deadline changed: (re)arm the manager's one timer, or cancel it (null). */
  | { type: 'arm_expiry'; atMs: number | null };

export interface OpenRequest extends AttachOptions {
  host: string;
  clientId: string;
  cleanStart: boolean;
  /** v5 Session Expiry Interval in seconds (absent = 0); ignored for v3. */
  sessionExpiryS?: number;
}

/**
 * What the manager keeps per session: the session and its expiry bookkeeping, as fields of the
 * caller's own object per session (the service's handle implements it and hands the manager a
 * `create` hook), so one object and one map entry serve both.
 */
export interface ManagedSession<M extends Deliverable, S> extends Expiring {
  expiryMs: number | null;
  expiresAt: number | null;
  /** Bumped by every open: a close from a connection that lost the session is ignored. */
  generation: number;
  readonly host: string;
  readonly clientId: string;
  readonly session: MqttSession<M, S>;
  /** Host and client id as one object (effects, store writes). */
  readonly key: SessionKey;
}

/** The entry of a caller that keeps no object of its own per session (the default `create`). */
export function plainEntry<M extends Deliverable, S>(key: SessionKey, session: MqttSession<M, S>): ManagedSession<M, S> {
  return { expiryMs: null, expiresAt: null, generation: 0, heapIndex: -1, host: key.host, clientId: key.clientId, session, key };
}

/** How the manager makes its per-session objects, and whom it tells when one is deleted. */
export interface ManagerHooks<M extends Deliverable, S, E extends ManagedSession<M, S>> {
  create(key: SessionKey, session: MqttSession<M, S>): E;
  /** A session was deleted (clean start, expiry 0 close, expiry, discard), synchronously. */
  removed?(entry: E): void;
}

const NEVER = 0xffff_ffff;

export class SessionManager<M extends Deliverable, S = unknown, Entry extends ManagedSession<M, S> = ManagedSession<M, S>> {
  private readonly sessions = new HostMap<Entry>();
  /** The last limits handed out per host: equal limits are shared by every session of the host. */
  private readonly limitsCache = new Map<string, SessionLimits>();
  /** Offline sessions with a deadline, earliest first. */
  private readonly deadlines = new ExpiryHeap<Entry>();
  private armedAt: number | null = null;
  private generations = 0;
  /** Restored sessions whose deadline started at this start-up (stored by startup()). */
  private restarted: Entry[] = [];
  private readonly hooks: ManagerHooks<M, S, Entry>;

  constructor(
    private readonly limitsSource: (host: string) => SessionLimits,
    hooks?: ManagerHooks<M, S, Entry>,
  ) {
    this.hooks = hooks ?? { create: (key, session) => plainEntry(key, session) as Entry };
  }

  /** The manager's object of a session (with a `create` hook: the caller's). */
  entry(host: string, clientId: string): Entry | undefined {
    return this.sessions.get(host, clientId);
  }

  /** Every session's object, host by host. */
  entries(): IterableIterator<Entry> {
    return this.sessions.values();
  }

  /** The host's limits; one shared object while they stay equal (limitsOf may build a new one per call). */
  private limitsOf(host: string): SessionLimits {
    const fresh = this.limitsSource(host);
    const cached = this.limitsCache.get(host);
    if (cached !== undefined && (cached === fresh || sameLimits(cached, fresh))) return cached;
    this.limitsCache.set(host, fresh);
    return fresh;
  }

  get size(): number {
    return this.sessions.size;
  }

  get(host: string, clientId: string): MqttSession<M, S> | undefined {
    return this.sessions.get(host, clientId)?.session;
  }

  /** Whether `generation` (from open) still holds the session, connected. */
  isCurrent(host: string, clientId: string, generation: number): boolean {
    const e = this.sessions.get(host, clientId);
    return e !== undefined && e.generation === generation && e.session.online;
  }

  /** The expiry interval a CONNECT asks for, after the host's rules; 0 = ends with the connection. */
  expiryOf(req: Pick<OpenRequest, 'host' | 'version' | 'cleanStart' | 'sessionExpiryS'>, l = this.limitsOf(req.host)): number | null {
    if (req.version !== 5) return req.cleanStart ? 0 : l.sessionExpiryMs;
    const s = req.sessionExpiryS ?? 0;
    const askedMs = s === NEVER ? null : s * 1000;
    if (l.maxSessionExpiryMs > 0 && (askedMs === null || askedMs > l.maxSessionExpiryMs)) return l.maxSessionExpiryMs;
    return askedMs;
  }

  /** A CONNECT accepted: find, resume or create the session and attach the connection. */
  open(
    req: OpenRequest,
    nowMs: number,
  ): { session: MqttSession<M, S>; entry: Entry; present: boolean; generation: number; effects: ManagerEffect<M>[] } {
    const fx: ManagerEffect<M>[] = [];
    let entry = this.sessions.get(req.host, req.clientId);
    if (entry && req.cleanStart) {
      this.remove(entry, fx);
      entry = undefined;
    }
    const present = entry !== undefined; // [MQTT-3.2.2-2/3]
    const limits = this.limitsOf(req.host);
    const expiryMs = this.expiryOf(req, limits);
    if (!entry) {
      entry = this.hooks.create({ host: req.host, clientId: req.clientId }, new MqttSession<M, S>(limits, expiryMs !== 0));
      this.sessions.set(req.host, req.clientId, entry);
    } else {
      entry.session.configure(limits);
    }
    const wasPersistent = entry.session.persistent;
    const generation = ++this.generations;
    entry.generation = generation;
    entry.expiryMs = expiryMs;
    entry.expiresAt = null;
    this.deadlines.remove(entry);
    entry.session.persistent = expiryMs !== 0;
    if (entry.session.persistent) fx.push({ type: 'session_put', key: entry.key, meta: meta(entry) });
    else if (wasPersistent) fx.push({ type: 'session_del', key: entry.key }); // v5 resume with expiry 0: no longer stored
    for (const effect of entry.session.attach(req, nowMs)) fx.push({ type: 'session', key: entry.key, effect });
    this.rearm(fx);
    return { session: entry.session, entry, present, generation, effects: fx };
  }

  /**
   * The connection holding the session closed. `sessionExpiryS`: a v5 DISCONNECT's new interval.
   * Expiry 0 deletes the session now [MQTT-3.1.2-23 v5]; otherwise it waits offline.
   * `generation` (from open): a late close of a connection that was taken over does nothing.
   */
  close(host: string, clientId: string, nowMs: number, sessionExpiryS?: number, generation?: number): ManagerEffect<M>[] {
    const entry = this.sessions.get(host, clientId);
    if (!entry || (generation !== undefined && generation !== entry.generation)) return [];
    if (!entry.session.online) return [];
    const fx: ManagerEffect<M>[] = [];
    if (sessionExpiryS !== undefined) {
      entry.expiryMs = this.expiryOf({ host, version: 5, cleanStart: false, sessionExpiryS });
    }
    for (const effect of entry.session.detach()) fx.push({ type: 'session', key: entry.key, effect });
    if (entry.expiryMs === 0) this.remove(entry, fx);
    else {
      entry.expiresAt = entry.expiryMs === null ? null : nowMs + entry.expiryMs;
      if (entry.expiresAt !== null) this.deadlines.push(entry);
      if (entry.session.persistent) fx.push({ type: 'session_put', key: entry.key, meta: meta(entry) });
    }
    this.rearm(fx);
    return fx;
  }

  /** Delete every offline session whose deadline has passed. */
  expire(nowMs: number): { expired: SessionKey[]; effects: ManagerEffect<M>[] } {
    const fx: ManagerEffect<M>[] = [];
    const expired: SessionKey[] = [];
    this.armedAt = null;
    while (this.deadlines.peekDeadline() <= nowMs) {
      const e = this.deadlines.pop()!;
      expired.push(e.key);
      this.remove(e, fx);
    }
    this.rearm(fx);
    return { expired, effects: fx };
  }

  /** Discard a session (admin kick with clean-up, user deleted). */
  discard(host: string, clientId: string): ManagerEffect<M>[] {
    const entry = this.sessions.get(host, clientId);
    if (!entry) return [];
    const fx: ManagerEffect<M>[] = [];
    this.remove(entry, fx);
    this.rearm(fx);
    return fx;
  }

  /** Forget a session without a store effect (a cluster node lets go of it; Redis keeps it). */
  evict(host: string, clientId: string): ManagerEffect<M>[] {
    const entry = this.sessions.get(host, clientId);
    if (!entry) return [];
    this.sessions.delete(host, clientId);
    this.deadlines.remove(entry);
    this.hooks.removed?.(entry);
    const fx: ManagerEffect<M>[] = [];
    this.rearm(fx);
    return fx;
  }

  /** Put back a persistent session loaded from the store (start-up), offline. */
  restore(key: SessionKey, m: SessionMeta, nowMs: number): MqttSession<M, S> {
    const session = new MqttSession<M, S>(this.limitsOf(key.host), true);
    // A session that was connected when the server stopped starts its expiry now.
    const expiresAt = m.expiresAt ?? (m.expiryMs === null ? null : nowMs + m.expiryMs);
    const entry = this.hooks.create(key, session);
    entry.expiryMs = m.expiryMs;
    entry.expiresAt = expiresAt;
    this.sessions.set(key.host, key.clientId, entry);
    if (expiresAt !== null) this.deadlines.push(entry);
    if (m.expiresAt === null && expiresAt !== null) this.restarted.push(entry);
    return session;
  }

  /** After restore(): store the deadlines started by the restart, arm the expiry timer. */
  startup(): ManagerEffect<M>[] {
    const fx: ManagerEffect<M>[] = [];
    for (const e of this.restarted.splice(0)) {
      if (this.sessions.get(e.host, e.clientId) === e) fx.push({ type: 'session_put', key: e.key, meta: meta(e) });
    }
    this.rearm(fx);
    return fx;
  }

  figures(host: string, clientId: string): SessionFigures | undefined {
    const e = this.sessions.get(host, clientId);
    return e && { ...e.session.figures(), expiresAt: e.expiresAt };
  }

  keys(): IterableIterator<SessionKey> {
    return (function* (m) {
      for (const e of m.values()) yield e.key;
    })(this.sessions);
  }

  private remove(entry: Entry, fx: ManagerEffect<M>[]): void {
    this.sessions.delete(entry.host, entry.clientId);
    this.deadlines.remove(entry);
    if (entry.session.persistent) fx.push({ type: 'session_del', key: entry.key });
    this.hooks.removed?.(entry);
  }

  /** One expiry timer for all sessions, at the earliest deadline. */
  private rearm(fx: ManagerEffect<M>[]): void {
    const d = this.deadlines.peekDeadline();
    const next = d === Infinity ? null : d;
    if (next === this.armedAt) return;
    this.armedAt = next;
    fx.push({ type: 'arm_expiry', atMs: next });
  }
}

/** Field by field (spelled out: a keyed loop is a megamorphic load per field); the priority table by reference or entries. */
function sameLimits(a: SessionLimits, b: SessionLimits): boolean {
  if (
    a.maxInflight !== b.maxInflight ||
    a.maxAwaitingRel !== b.maxAwaitingRel ||
    a.awaitRelTimeoutMs !== b.awaitRelTimeoutMs ||
    a.maxMqueueLen !== b.maxMqueueLen ||
    a.mqueueStoreQos0 !== b.mqueueStoreQos0 ||
    a.mqueueDefaultPriority !== b.mqueueDefaultPriority ||
    a.sessionExpiryMs !== b.sessionExpiryMs ||
    a.maxSessionExpiryMs !== b.maxSessionExpiryMs ||
    a.retryIntervalMs !== b.retryIntervalMs
  ) {
    return false;
  }
  const pa = a.mqueuePriorities;
  const pb = b.mqueuePriorities;
  if (pa === pb) return true;
  const ka = Object.keys(pa);
  return ka.length === Object.keys(pb).length && ka.every((t) => pa[t] === pb[t]);
}

const meta = (e: { expiryMs: number | null; expiresAt: number | null }): SessionMeta => ({ expiryMs: e.expiryMs, expiresAt: e.expiresAt });
