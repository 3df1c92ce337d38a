/**
 * In-memory SessionRepo for tests: the contract of ./session-types.ts without durability, passing
 * the same contract suite as the SQLite one (test/mqtt-session/session-repo.contract.ts). Values are
 * copied in and out through the stored JSON representation, lists sort as SQLite sorts them, and a
 * batch is applied to a copy first, so a failing batch leaves nothing behind (like a rollback).
 */
import { cloneJson, compareUtf8 } from './json.js';
import type { SessionOp, SessionRepo, StoredSession, StoredSessionMessage } from './session-types.js';

interface Held {
  /** A session_put was applied (rows of an unknown session stay invisible, as in SQLite). */
  live: boolean;
  record: StoredSession;
  subs: Map<string, Record<string, unknown>>;
  /** Insertion order = first-send order; a replaced id moves to the end (as SQLite's new rowid). */
  inflight: Map<number, StoredSession['inflight'][number]>;
  queue: Map<number, StoredSessionMessage>;
  rel: Map<number, number>;
}

const key = (host: string, clientId: string) => `${host}\u0000${clientId}`;
const copyMsg = (m: StoredSessionMessage): StoredSessionMessage => cloneJson(m);

export function memorySessions(): SessionRepo {
  let sessions = new Map<string, Held>();

  const snapshot = (h: Held): StoredSession => ({
    ...h.record,
    subscriptions: [...h.subs]
      .sort(([a], [b]) => compareUtf8(a, b))
      .map(([filter, opts]) => ({ filter, opts: cloneJson(opts) })),
    inflight: [...h.inflight.values()].map((e) => ({ ...e, msg: copyMsg(e.msg) })),
    queue: [...h.queue].sort(([a], [b]) => a - b).map(([seq, msg]) => ({ seq, msg: copyMsg(msg) })),
    awaitingRel: [...h.rel].map(([id, atMs]) => ({ id, atMs })).sort((a, b) => a.atMs - b.atMs || a.id - b.id),
  });

  const held = (m: Map<string, Held>, o: SessionOp): Held => {
    const k = key(o.host, o.clientId);
    let h = m.get(k);
    if (!h) {
      const record: StoredSession = { host: o.host, clientId: o.clientId, expiryMs: null, expiresAt: null, subscriptions: [], inflight: [], queue: [], awaitingRel: [] };
      m.set(k, (h = { live: false, record, subs: new Map(), inflight: new Map(), queue: new Map(), rel: new Map() }));
    }
    return h;
  };

  const cloneHeld = (h: Held): Held => ({
    live: h.live,
    record: { ...h.record },
    subs: new Map(h.subs),
    inflight: new Map(h.inflight),
    queue: new Map(h.queue),
    rel: new Map(h.rel),
  });

  const one = (m: Map<string, Held>, touched: Set<string>, o: SessionOp): void => {
    const k = key(o.host, o.clientId);
    if (o.op === 'session_del') {
      m.delete(k);
      return;
    }
    if (!touched.has(k)) {
      touched.add(k);
      const h = m.get(k);
      if (h) m.set(k, cloneHeld(h)); // copy on first write: the committed map stays intact
    }
    const h = held(m, o);
    switch (o.op) {
      case 'session_put':
        h.live = true;
        h.record = { ...h.record, expiryMs: o.expiryMs, expiresAt: o.expiresAt };
        break;
      case 'sub_put':
        h.subs.set(o.filter, cloneJson(o.opts));
        break;
      case 'sub_del':
        h.subs.delete(o.filter);
        break;
      case 'inflight_put':
        if (!Number.isInteger(o.id) || o.id < 1 || o.id > 65_535) throw new RangeError(`packet id ${o.id} out of 1..65535`);
        h.inflight.delete(o.id);
        h.inflight.set(o.id, { id: o.id, phase: o.phase, msg: copyMsg(o.msg) });
        break;
      case 'inflight_phase': {
        const e = h.inflight.get(o.id);
        if (e) h.inflight.set(o.id, { ...e, phase: o.phase });
        break;
      }
      case 'inflight_del':
        h.inflight.delete(o.id);
        break;
      case 'queue_put':
        h.queue.set(o.seq, copyMsg(o.msg));
        break;
      case 'queue_del':
        h.queue.delete(o.seq);
        break;
      case 'rel_put':
        h.rel.set(o.id, o.atMs);
        break;
      case 'rel_del':
        h.rel.delete(o.id);
        break;
    }
  };

  const visible = (h: Held, host?: string) => h.live && (host === undefined || h.record.host === host);

  return {
    apply(ops) {
      const next = new Map(sessions);
      const touched = new Set<string>();
      for (const o of ops) one(next, touched, o);
      sessions = next;
    },
    get(host, clientId) {
      const h = sessions.get(key(host, clientId));
      return h && visible(h) ? snapshot(h) : undefined;
    },
    load(host) {
      return [...sessions.values()]
        .filter((h) => visible(h, host))
        .sort((a, b) => compareUtf8(a.record.host, b.record.host) || compareUtf8(a.record.clientId, b.record.clientId))
        .map(snapshot);
    },
    count: (host) => [...sessions.values()].filter((h) => visible(h, host)).length,
  };
}
