/**
 * The durable write path of persistent sessions: the store effects of the session core and the
 * manager go into one batch per event-loop turn, applied in one SQLite transaction; callers
 * waiting for durability (PUBACK/PUBREC of an inbound message that was queued for persistent
 * subscribers, issue 5: "a PUBACK/PUBREC is sent only after the message is durable") are released
 * when the transaction that holds their writes has committed.
 *
 *   write() ... write() ... whenDurable(cb)   [same turn]
 *                 -> defer(flush)  -> repo.apply(batch) in one transaction -> cb(null)
 *
 * Inside a batch, rows that are created and removed again before the commit (a message queued
 * and sent at once, an inflight entry acknowledged in the same turn) are never written: their
 * put and del cancel out. A sub_del is kept (the row may predate the batch). `defer` is injected
 * (setImmediate in production, a manual queue in tests): nothing here reads a clock or arms a timer.
 */
import type { SessionOp, SessionRepo, StoredSessionMessage } from '../store/session-types.js';
import type { ManagerEffect, SessionKey } from './manager.js';
import type { SessionWrite } from './types.js';

/** How a session message is kept in the store, and back. */
export interface MessageCodec<M> {
  encode(m: M): StoredSessionMessage;
  decode(s: StoredSessionMessage): M;
}

export interface WriterDeps<M> {
  repo: SessionRepo;
  codec: MessageCodec<M>;
  /** Run `fn` once the current turn's work is done (setImmediate). */
  defer(fn: () => void): void;
  /** Subscription options to JSON (default: the object itself). */
  encodeSub?: (opts: unknown) => Record<string, unknown>;
}

export type DurableCallback = (err: Error | null) => void;

/**
 * What the session service needs of a durable writer: the SQLite batch writer below, or a
 * cluster's (Redis, issue 16). `whenDurable` is the acknowledgement barrier.
 */
export interface DurableWriter<M> {
  /** Take the store effects out of a manager effect list (others are ignored). */
  record(effects: readonly ManagerEffect<M>[]): void;
  /** One session write (the `store` effect of a session of `key`). */
  write(key: SessionKey, w: SessionWrite<M>): void;
  /** `cb(null)` once everything written so far is durable; `cb(err)` when it could not be. */
  whenDurable(cb: DurableCallback): void;
  /** Commit what is pending now (shutdown). */
  flush(): void;
}

export interface WriterStats {
  batches: number;
  /** Operations written. */
  ops: number;
  /** Operations that cancelled out inside a batch and were never written. */
  saved: number;
}

const SKIP = null;

export class SessionWriter<M> implements DurableWriter<M> {
  private ops: (SessionOp | typeof SKIP)[] = [];
  /** Row key -> index in ops of its pending put (for cancellation and phase folding). */
  private puts = new Map<string, number>();
  private waiting: DurableCallback[] = [];
  private scheduled = false;
  readonly stats: WriterStats = { batches: 0, ops: 0, saved: 0 };

  constructor(private readonly deps: WriterDeps<M>) {}

  /** Pending operations not yet committed. */
  get pending(): number {
    return this.ops.length;
  }

  /** Take the store effects out of a manager effect list (others are ignored). */
  record(effects: readonly ManagerEffect<M>[]): void {
    for (const e of effects) {
      if (e.type === 'session') {
        if (e.effect.type === 'store') this.write(e.key, e.effect.write);
      } else if (e.type === 'session_put') {
        this.push({ op: 'session_put', ...e.key, expiryMs: e.meta.expiryMs, expiresAt: e.meta.expiresAt }, null);
      } else if (e.type === 'session_del') {
        this.push({ op: 'session_del', ...e.key }, null);
      }
    }
  }

  /** One session write (the `store` effect of a session of `key`). */
  write(key: SessionKey, w: SessionWrite<M>): void {
    const k = { host: key.host, clientId: key.clientId };
    const row = (kind: string, n: number | string) => `${k.host}\u0000${k.clientId}\u0000${kind}\u0000${n}`;
    switch (w.kind) {
      case 'inflight_put':
        return this.push({ op: 'inflight_put', ...k, id: w.id, phase: w.phase, msg: this.deps.codec.encode(w.msg) }, row('i', w.id));
      case 'inflight_phase': {
        const at = this.puts.get(row('i', w.id));
        const pending = at === undefined ? null : this.ops[at];
        if (pending && pending.op === 'inflight_put') {
          this.ops[at!] = { ...pending, phase: w.phase }; // folded into the pending put
          this.stats.saved++;
          return;
        }
        return this.push({ op: 'inflight_phase', ...k, id: w.id, phase: w.phase }, null);
      }
      case 'inflight_del':
        return this.del({ op: 'inflight_del', ...k, id: w.id }, row('i', w.id), true);
      case 'queue_put':
        return this.push({ op: 'queue_put', ...k, seq: w.seq, msg: this.deps.codec.encode(w.msg) }, row('q', w.seq));
      case 'queue_del':
        return this.del({ op: 'queue_del', ...k, seq: w.seq }, row('q', w.seq), true);
      case 'rel_put':
        return this.push({ op: 'rel_put', ...k, id: w.id, atMs: w.atMs }, row('r', w.id));
      case 'rel_del':
        return this.del({ op: 'rel_del', ...k, id: w.id }, row('r', w.id), true);
      case 'sub_put': {
        const opts = this.deps.encodeSub ? this.deps.encodeSub(w.opts) : (w.opts as Record<string, unknown>);
        return this.push({ op: 'sub_put', ...k, filter: w.filter, opts }, row('s', w.filter));
      }
      case 'sub_del':
        return this.del({ op: 'sub_del', ...k, filter: w.filter }, row('s', w.filter), false);
    }
  }

  /**
   * `cb(null)` once everything written so far is committed (at once when nothing is pending);
   * `cb(err)` when that transaction failed: the caller must not acknowledge then.
   */
  whenDurable(cb: DurableCallback): void {
    if (this.ops.length === 0 && !this.scheduled) return cb(null);
    this.waiting.push(cb);
    this.schedule();
  }

  /** Promise form of whenDurable. */
  durable(): Promise<void> {
    return new Promise((resolve, reject) => this.whenDurable((err) => (err ? reject(err) : resolve())));
  }

  /** Commit the batch now (the deferred flush, or shutdown). */
  flush(): void {
    this.scheduled = false;
    const ops = this.ops.filter((o): o is SessionOp => o !== SKIP);
    const waiting = this.waiting;
    this.ops = [];
    this.puts.clear();
    this.waiting = [];
    let error: Error | null = null;
    try {
      this.deps.repo.apply(ops);
      this.stats.batches++;
      this.stats.ops += ops.length;
    } catch (err) {
      error = err instanceof Error ? err : new Error(String(err));
    }
    for (const cb of waiting) cb(error);
  }

  private push(op: SessionOp, rowKey: string | null): void {
    if (rowKey !== null) {
      const prev = this.puts.get(rowKey);
      if (prev !== undefined) {
        this.ops[prev] = SKIP; // replaced before it was written
        this.stats.saved++;
      }
      this.puts.set(rowKey, this.ops.length);
    }
    this.ops.push(op);
    this.schedule();
  }

  /** A delete; cancels a pending put of the same row, and itself when the row cannot predate it. */
  private del(op: SessionOp, rowKey: string, newRowsOnly: boolean): void {
    const at = this.puts.get(rowKey);
    if (at !== undefined) {
      this.puts.delete(rowKey);
      this.ops[at] = SKIP;
      this.stats.saved++;
      if (newRowsOnly) {
        this.stats.saved++;
        return;
      }
    }
    this.push(op, null);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.deps.defer(() => {
      if (this.scheduled) this.flush();
    });
  }
}
