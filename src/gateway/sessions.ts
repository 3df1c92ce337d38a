/**
 * What one gateway event does to one client id: pure decisions `(entry, input, ctx) -> {entry,
 * effects}` on a small per-id entry; SessionBook (session-book.ts) keeps the entries and carries
 * the effects out. Invariants:
 *   - idempotent: a repeated event changes nothing (verdict `duplicate`);
 *   - never backwards: with an ordering key (EMQX `connected_at`), an event about an older
 *     session than the one known is `stale`, whatever order it arrives in; an offline entry keeps
 *     the key of the session that ended, so a late `connected` for it is stale too;
 *   - without one (Aedes, Mosquitto, VerneMQ), an offline waits `offline_debounce_ms`: a
 *     reconnect meanwhile cancels it (a takeover reads disconnect-then-connect), and when the
 *     gateway's REST can be asked, it decides at the end (VerneMQ reports a takeover as offline);
 *     an event from another node than the session's is the old node's late word, `stale`;
 *   - a snapshot never overrides what an event newer than the snapshot's request said.
 *
 * Entry states: absent -> online -> offline (kept as a tombstone with its key) -> online ...;
 * `pending` (a debounced offline) only on an online entry.
 */
import type { DisconnectReason } from '../liveness/types.js';
import type { Availability, Meta } from '../presence/types.js';
import type { ClientEvent, SnapshotSession } from './types.js';

export interface Pending {
  readonly reason: DisconnectReason;
  readonly meta: Meta;
  /** The gateway's REST has been asked; its answer decides. */
  readonly checking: boolean;
  /** A connected event came during the wait (no ordering key: the REST answer settles which came last). */
  readonly contested: boolean;
}

export interface Entry {
  readonly online: boolean;
  /** Ordering key of the session (online) or of the last session seen to end (offline). */
  readonly order: number | null;
  /** Snapshot identity of the session when there is no ordering key (ejabberd peer ip:port@node). */
  readonly session: string | null;
  readonly node: string | null;
  /** Tracker sequence number of the last event applied: a snapshot requested before it yields. */
  readonly seq: number;
  /** Wall ms of the last change (offline entries are dropped after a while). */
  readonly changedAt: number;
  readonly pending: Pending | null;
}

export type Verdict = 'applied' | 'duplicate' | 'stale';

export type SessionEffect =
  | { type: 'online'; id: string; renew: boolean; connectedAt: number | null; meta: Meta; availability?: Availability }
  | { type: 'offline'; id: string; reason: DisconnectReason; meta: Meta }
  /** Start (or restart) the debounce timer of an id. */
  | { type: 'arm'; id: string; delayMs: number }
  | { type: 'disarm'; id: string }
  /** Ask the gateway's REST whether the client is online; answer with `checked`. */
  | { type: 'check'; id: string };

export interface Decision {
  /** The next entry; null = forget the id. */
  entry: Entry | null;
  effects: SessionEffect[];
  verdict: Verdict;
}

export interface DecideCtx {
  /** Sequence number of this input. */
  seq: number;
  /** Wall ms now. */
  now: number;
  debounceMs: number;
  /** The gateway's REST can tell whether one client is online (EMQX, VerneMQ with `api`). */
  checkable: boolean;
}

const keep = (entry: Entry | null, verdict: Verdict): Decision => ({ entry, effects: [], verdict });

const metaOf = (e: { node: string | null; meta: Meta }): Meta => (e.node === null ? e.meta : { ...e.meta, node: e.node });

function online(id: string, e: ClientEvent | SnapshotSession, prev: Entry | null, renew: boolean, ctx: DecideCtx, session: string | null = null): Decision {
  const effects: SessionEffect[] = [];
  if (prev?.pending) effects.push({ type: 'disarm', id });
  const connectedAt = 'type' in e ? e.at : e.connectedAt;
  const fx: SessionEffect = { type: 'online', id, renew, connectedAt, meta: metaOf(e) };
  if ('availability' in e && e.availability) fx.availability = e.availability;
  effects.push(fx);
  return {
    entry: { online: true, order: e.order, session, node: e.node, seq: ctx.seq, changedAt: ctx.now, pending: null },
    effects,
    verdict: 'applied',
  };
}

function offline(id: string, prev: Entry, reason: DisconnectReason, meta: Meta, ctx: DecideCtx, order = prev.order): Decision {
  const effects: SessionEffect[] = [];
  if (prev.pending) effects.push({ type: 'disarm', id });
  effects.push({ type: 'offline', id, reason, meta });
  return { entry: { ...prev, online: false, order, seq: ctx.seq, changedAt: ctx.now, pending: null }, effects, verdict: 'applied' };
}

/** The gateway says the client connected. */
export function decideConnected(e: ClientEvent, prev: Entry | null, ctx: DecideCtx): Decision {
  if (!prev) return online(e.id, e, null, false, ctx);
  if (e.order !== null && prev.order !== null) {
    if (e.order < prev.order || (!prev.online && e.order === prev.order)) return keep(prev, 'stale');
    if (e.order === prev.order) return keep({ ...prev, seq: ctx.seq }, 'duplicate');
    return online(e.id, e, prev, prev.online, ctx);
  }
  if (!prev.online) return online(e.id, e, prev, false, ctx);
  if (prev.pending) {
    // Disconnect then connect: a reconnect or a takeover. With the REST to ask and no ordering
    // key, the answer at the end of the wait settles it (the two may have crossed on the wire).
    if (prev.pending.checking || (ctx.checkable && ctx.debounceMs > 0)) {
      const next: Entry = { ...prev, node: e.node ?? prev.node, seq: ctx.seq, pending: { ...prev.pending, contested: true } };
      return { entry: next, effects: [{ type: 'online', id: e.id, renew: false, connectedAt: e.at, meta: metaOf(e) }], verdict: 'applied' };
    }
    return online(e.id, e, prev, true, ctx);
  }
  // Connected while online: the same node repeating itself, or a session on another node.
  if (e.node !== null && prev.node !== null && e.node !== prev.node) return online(e.id, e, prev, true, ctx);
  return keep({ ...prev, seq: ctx.seq }, 'duplicate');
}

/** The gateway says the client disconnected. */
export function decideDisconnected(e: ClientEvent, prev: Entry | null, ctx: DecideCtx): Decision {
  const reason = e.reason ?? 'gateway_offline';
  const meta = metaOf(e);
  if (!prev) {
    // Nothing known (a client connected before Vigil watched, or a reversed pair): remember the
    // ended session's key so its late `connected` is stale.
    if (e.order === null) return keep(null, 'duplicate');
    return keep({ online: false, order: e.order, session: null, node: e.node, seq: ctx.seq, changedAt: ctx.now, pending: null }, 'applied');
  }
  if (!prev.online) {
    if (e.order !== null && prev.order !== null && e.order > prev.order) return keep({ ...prev, order: e.order, seq: ctx.seq }, 'applied');
    return keep(prev, 'duplicate');
  }
  if (e.order !== null && prev.order !== null) {
    if (e.order < prev.order) return keep(prev, 'stale');
    return offline(e.id, prev, reason, meta, ctx, e.order);
  }
  // EMQX before 5.x leaves connected_at out of its disconnected event: its disconnected_at orders it.
  if (e.order === null && e.at !== null && prev.order !== null) {
    return e.at < prev.order ? keep(prev, 'stale') : offline(e.id, prev, reason, meta, ctx);
  }
  if (e.node !== null && prev.node !== null && e.node !== prev.node) return keep(prev, 'stale');
  if (prev.pending) return keep({ ...prev, seq: ctx.seq }, 'duplicate');
  if (ctx.debounceMs === 0) {
    if (!ctx.checkable) return offline(e.id, prev, reason, meta, ctx);
    const pending: Pending = { reason, meta, checking: true, contested: false };
    return { entry: { ...prev, seq: ctx.seq, pending }, effects: [{ type: 'check', id: e.id }], verdict: 'applied' };
  }
  const pending: Pending = { reason, meta, checking: false, contested: false };
  return { entry: { ...prev, seq: ctx.seq, pending }, effects: [{ type: 'arm', id: e.id, delayMs: ctx.debounceMs }], verdict: 'applied' };
}

/** The debounce timer of an id fired. */
export function decideTimer(id: string, prev: Entry | null, ctx: DecideCtx): Decision {
  if (!prev?.pending || prev.pending.checking) return keep(prev, 'duplicate');
  if (ctx.checkable) return { entry: { ...prev, pending: { ...prev.pending, checking: true } }, effects: [{ type: 'check', id }], verdict: 'applied' };
  return offline(id, prev, prev.pending.reason, prev.pending.meta, ctx);
}

/**
 * The gateway's REST answered whether the client is online (null: the request failed, so the
 * event's word stands). An online answer keeps the row (the offline was a takeover's old session).
 */
export function decideChecked(id: string, prev: Entry | null, answer: boolean | null, ctx: DecideCtx): Decision {
  if (!prev?.pending?.checking) return keep(prev, 'duplicate');
  if (answer === true) return { entry: { ...prev, pending: null, changedAt: ctx.now }, effects: [], verdict: 'stale' };
  return offline(id, prev, prev.pending.reason, prev.pending.meta, ctx);
}

/** A snapshot, requested when the sequence was at `snapSeq`, lists the session. */
export function decideListed(s: SnapshotSession, prev: Entry | null, snapSeq: number, ctx: DecideCtx): Decision {
  if (prev && prev.seq > snapSeq) return keep(prev, 'stale');
  if (!prev) return online(s.id, s, null, false, ctx, s.session);
  if (s.order !== null && prev.order !== null) {
    if (s.order < prev.order || (!prev.online && s.order === prev.order)) return keep(prev, 'stale');
    if (s.order > prev.order) return online(s.id, s, prev, prev.online, ctx, s.session);
  } else if (!prev.online) {
    return online(s.id, s, prev, false, ctx, s.session);
  } else if (s.session !== null && prev.session !== null && s.session !== prev.session) {
    return online(s.id, s, prev, true, ctx, s.session);
  }
  // The same session: its details may have changed (ejabberd presence); the table announces only changes.
  const fx: SessionEffect = { type: 'online', id: s.id, renew: false, connectedAt: s.connectedAt, meta: metaOf(s) };
  if (s.availability) fx.availability = s.availability;
  const effects: SessionEffect[] = prev.pending ? [{ type: 'disarm', id: s.id }, fx] : [fx];
  return { entry: { ...prev, session: s.session ?? prev.session, node: s.node ?? prev.node, pending: null }, effects, verdict: 'duplicate' };
}

/** A snapshot requested at `snapSeq` does not list an online id: it is gone, unless an event since says otherwise. */
export function decideUnlisted(id: string, prev: Entry, snapSeq: number, ctx: DecideCtx): Decision {
  if (!prev.online || prev.seq > snapSeq) return keep(prev, 'duplicate');
  return offline(id, prev, 'gateway_offline', { gateway_reason: 'not_listed' }, ctx);
}

/**
 * The session ended for a reason Vigil knows first hand: the gateway was (or the node holding the
 * session) lost for gateway_timeout (gateway_down), or Vigil kicked it through the gateway's API.
 */
export function decideEnded(id: string, prev: Entry, reason: DisconnectReason, ctx: DecideCtx): Decision {
  if (!prev.online) return keep(prev, 'duplicate');
  // Lost contact is no proof the session ended: forget its key, so the gateway's snapshot (or
  // a late event) on its return can bring the same session back.
  return offline(id, prev, reason, {}, ctx, reason === 'gateway_down' ? null : prev.order);
}
