/** The flat figures of one session for the presence table and REST (expiry comes from the manager). */
import type { Deliverable, DropReason, InflightEntry, Link, SessionFigures } from './types.js';

interface Observable<M> {
  link: Link;
  persistent: boolean;
  inflight: ReadonlyMap<number, InflightEntry<M>>;
  awaitingRel: ReadonlyMap<number, number>;
  subscriptions: ReadonlyMap<string, unknown>;
  queue: { readonly length: number };
  drops: Readonly<Record<DropReason, number>>;
}

export function sessionFigures<M extends Deliverable>(s: Observable<M>): Omit<SessionFigures, 'expiresAt'> {
  let awaitingComp = 0;
  for (const e of s.inflight.values()) if (e.phase === 'await_pubcomp') awaitingComp++;
  const d = s.drops;
  return {
    connected: s.link.state === 'online',
    persistent: s.persistent,
    inflight: s.inflight.size,
    window: s.link.state === 'online' ? s.link.window : 0,
    queued: s.queue.length,
    awaitingRel: s.awaitingRel.size,
    awaitingComp,
    subscriptions: s.subscriptions.size,
    dropped: d.queue_full + d.qos0_not_queued + d.expired + d.awaiting_rel_full + d.await_rel_timeout,
    droppedQueueFull: d.queue_full,
    droppedQos0: d.qos0_not_queued,
    droppedExpired: d.expired,
    droppedAwaitingRelFull: d.awaiting_rel_full,
    droppedAwaitRelTimeout: d.await_rel_timeout,
  };
}
