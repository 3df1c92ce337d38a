/**
 * The durable writer of persistent sessions in cluster mode (the SQLite SessionWriter's role, for
 * Redis): the session core's store writes become writes of the session's `s` op in the node's
 * next batch (batcher.ts, scripts.ts), fenced by the session generation this node claimed.
 *
 *   inflight_put   -> minf/minfo (copied from the session's queue entry when the message came from
 *                     it, with that entry deleted in the same step; else the delivery blob)
 *   queue_put      -> nothing when the message came from the queue stream (it is there already);
 *                     else XADD, its entry id learnt from the answer
 *   queue_del      -> XDEL of the entry id (resolved when the batch is sent)
 *   rel / sub / meta / delete -> mrel, msub + session routes, ms, everything
 *
 * A write answered stale (another node claimed the session) closes the session's connection here
 * before any acknowledgement waiting on that batch goes out (onStale).
 */
import type { DurableCallback, DurableWriter } from '../../mqtt-session/durable.js';
import type { ManagerEffect, SessionKey } from '../../mqtt-session/manager.js';
import type { SessionWrite } from '../../mqtt-session/types.js';
import type { Delivery } from '../../mqtt/message.js';
import type { Batcher } from './batcher.js';
import { encodeDelivery, encodeSubOptions } from './codec.js';
import type { SubOptions } from '../../mqtt/channel-session.js';
import { sessionKey } from './keys.js';

/** What this node keeps of a persistent session it holds. */
export interface HeldSession {
  /** The generation this node claimed it with (every write names it). */
  gen: number;
  /** Queue seq -> stream entry id. */
  readonly refs: Map<number, string>;
  /** Inline queue puts not sent yet, by seq (a delete before the send cancels both). */
  readonly unsent: Map<number, { cancelled: boolean }>;
}

export interface SessionWriterDeps {
  batcher: Batcher;
  /** Whether the session is connected now (its meta write says online or offline). */
  isOnline(key: SessionKey): boolean;
  /** The queue entry id a delivery came from, if it came from the session's queue stream. */
  refOf(d: Delivery): string | undefined;
  /** A write was refused: another node holds the session now (or this node was fenced). */
  onStale(key: SessionKey): void;
}

export function heldSession(gen: number): HeldSession {
  return { gen, refs: new Map(), unsent: new Map() };
}

export class ClusterSessionWriter implements DurableWriter<Delivery> {
  readonly held = new Map<string, HeldSession>();
  /** Writes of sessions this node does not hold (should be none). */
  orphanWrites = 0;

  constructor(private readonly d: SessionWriterDeps) {}

  record(effects: readonly ManagerEffect<Delivery>[]): void {
    for (const e of effects) {
      if (e.type === 'session') {
        if (e.effect.type === 'store') this.write(e.key, e.effect.write);
      } else if (e.type === 'session_put') {
        const online = this.d.isOnline(e.key);
        const x = e.meta.expiryMs === null ? '' : String(e.meta.expiryMs);
        this.push(e.key, ['sp', x, online ? 1 : 0, e.meta.expiresAt === null ? '' : String(e.meta.expiresAt)]);
      } else if (e.type === 'session_del') {
        this.push(e.key, ['sd']);
      }
    }
  }

  write(key: SessionKey, w: SessionWrite<Delivery>): void {
    switch (w.kind) {
      case 'inflight_put': {
        const ref = this.d.refOf(w.msg);
        const bi = ref === undefined ? this.d.batcher.blob(encodeDelivery(w.msg)) : 0;
        return this.push(key, ['ip', w.id, w.phase, bi, ref ?? '']);
      }
      case 'inflight_phase':
        return this.push(key, ['ih', w.id, w.phase]);
      case 'inflight_del':
        return this.push(key, ['id', w.id]);
      case 'queue_put': {
        const h = this.held.get(sessionKey(key.host, key.clientId));
        const ref = this.d.refOf(w.msg);
        if (ref !== undefined) return void h?.refs.set(w.seq, ref);
        if (!h) return void this.orphanWrites++;
        const mark = { cancelled: false };
        h.unsent.set(w.seq, mark);
        const bi = this.d.batcher.blob(encodeDelivery(w.msg));
        const seq = w.seq;
        return this.push(key, () => {
          if (mark.cancelled) return null;
          h.unsent.delete(seq);
          return ['qp', bi, seq];
        });
      }
      case 'queue_del': {
        const h = this.held.get(sessionKey(key.host, key.clientId));
        if (!h) return void this.orphanWrites++;
        const mark = h.unsent.get(w.seq);
        if (mark) {
          mark.cancelled = true;
          h.unsent.delete(w.seq);
          return;
        }
        const seq = w.seq;
        return this.push(key, () => {
          const ref = h.refs.get(seq);
          h.refs.delete(seq);
          return ref === undefined ? null : ['qd', ref];
        });
      }
      case 'rel_put':
        return this.push(key, ['rp', w.id, w.atMs]);
      case 'rel_del':
        return this.push(key, ['rd', w.id]);
      case 'sub_put':
        return this.push(key, ['su', w.filter, encodeSubOptions(w.opts as SubOptions)]);
      case 'sub_del':
        return this.push(key, ['sx', w.filter]);
    }
  }

  whenDurable(cb: DurableCallback): void {
    this.d.batcher.whenDurable(cb);
  }

  /** The batcher sends on its own; a graceful stop waits for it (engine.ts). */
  flush(): void {}

  private push(key: SessionKey, w: unknown[] | (() => unknown[] | null)): void {
    const sk = sessionKey(key.host, key.clientId);
    const h = this.held.get(sk);
    if (!h) {
      this.orphanWrites++;
      return;
    }
    this.d.batcher.sessionWrite(sk, h.gen, w, (r) => this.answered(key, h, r));
  }

  private answered(key: SessionKey, h: HeldSession, r: unknown): void {
    if (!Array.isArray(r)) {
      if (this.held.get(sessionKey(key.host, key.clientId)) === h) this.d.onStale(key);
      return;
    }
    const ids = r[1] as unknown[] | undefined;
    if (ids) for (let i = 0; i + 1 < ids.length; i += 2) h.refs.set(Number(String(ids[i])), String(ids[i + 1]));
  }
}
