/**
 * Start-up: persistent sessions come back from the store into the manager, offline, with their
 * subscriptions, inflight messages (resent with DUP=1 on the next attach), queue and awaiting-rel
 * ids. Returns the manager's expiry timer effect and every subscription, for the caller to put
 * back into the routing trie.
 */
import type { SessionRepo } from '../store/session-types.js';
import type { MessageCodec } from './durable.js';
import type { ManagerEffect, SessionKey, SessionManager } from './manager.js';
import type { Deliverable } from './types.js';

export interface Restored<M, S> {
  sessions: number;
  subscriptions: { key: SessionKey; filter: string; opts: S }[];
  effects: ManagerEffect<M>[];
}

export function restoreSessions<M extends Deliverable, S>(
  manager: SessionManager<M, S>,
  repo: SessionRepo,
  codec: MessageCodec<M>,
  decodeSub: (opts: Record<string, unknown>) => S,
  nowMs: number,
  host?: string,
): Restored<M, S> {
  const subscriptions: Restored<M, S>['subscriptions'] = [];
  const stored = repo.load(host);
  for (const s of stored) {
    const key = { host: s.host, clientId: s.clientId };
    const session = manager.restore(key, { expiryMs: s.expiryMs, expiresAt: s.expiresAt }, nowMs);
    for (const sub of s.subscriptions) {
      const opts = decodeSub(sub.opts);
      session.restoreSubscription(sub.filter, opts);
      subscriptions.push({ key, filter: sub.filter, opts });
    }
    for (const e of s.inflight) session.restoreInflight(e.id, e.phase, codec.decode(e.msg));
    for (const q of s.queue) session.restoreQueued(q.seq, codec.decode(q.msg));
    for (const r of s.awaitingRel) session.restoreAwaitingRel(r.id, r.atMs);
  }
  return { sessions: stored.length, subscriptions, effects: manager.startup() };
}
