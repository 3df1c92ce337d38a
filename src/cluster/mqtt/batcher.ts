/**
 * The data plane's write path of one node: every change the MQTT side makes (session writes,
 * claims, routes, forwarded messages, retained messages, wills) becomes an op of the current
 * batch, and one COMMIT call (scripts.ts) applies a batch atomically. One batch is in flight at a
 * time, so batches apply in the order they were made; ops made while one is in flight gather into
 * the next, so the batch grows with the load (one round trip per batch, not per message) and a
 * lone op waits only for the end of its event-loop turn.
 *
 *   push(op, blob..., onResult) ... whenDurable(cb)     [any turn]
 *     -> setImmediate -> COMMIT(ops, blobs) -> onResult(result) for each op -> cb(null)
 *
 * `whenDurable` is the acknowledgement barrier (the SQLite writer's, for Redis): PUBACK / PUBREC /
 * SUBACK wait for the batch holding their writes. Op results come first, so a session found stale
 * has its connection closed before any acknowledgement of it could leave. A call that fails (Redis
 * away) is sent again with the same sequence number: the script answers a batch it already applied
 * from its stored reply. FENCED (this node lost its lease) fails the batch: callers get an error.
 */
import type { Logger } from 'pino';
import type { RedisLink } from '../redis.js';
import { MK } from './keys.js';
import { COMMIT } from './scripts.js';

/** An op as sent (JSON); a lazily built part is resolved when the batch is sent. */
export type Op = Record<string, unknown>;
type Write = unknown[] | (() => unknown[] | null);
type Callback = (err: Error | null) => void;

interface Batch {
  seq: number;
  ops: Op[];
  /** Writes of `s` ops, resolved at send time (queue refs known only after an earlier batch). */
  writes: (Write[] | null)[];
  blobs: Buffer[];
  bytes: number;
  results: (((r: unknown) => void) | null)[];
  durable: Callback[];
  /** The `s` op index per session key (the last one: a later op of another kind starts a new one). */
  lastSession: string | null;
}

export interface BatcherDeps {
  /** The node's Redis connection (set once the node started; the batcher runs only after that). */
  link(): RedisLink;
  nodeId: string;
  logger: Logger;
  /** COMMIT answered FENCED: the batch failed; membership decides (fence or recover). */
  onFenced(): void;
}

const MAX_OPS = 4_000;
const MAX_BYTES = 8 << 20;

export class Batcher {
  private epoch = 0;
  private seq = 0;
  private current: Batch | null = null;
  private inFlight: Batch | null = null;
  private scheduled = false;
  private paused = true;
  private retryMs = 50;
  private idleWaiters: (() => void)[] = [];
  /** Batches and ops committed (tests, metrics). */
  readonly stats = { batches: 0, ops: 0, retries: 0 };

  constructor(private readonly d: BatcherDeps) {}

  /** Joined with `epoch`: send what waited. */
  resume(epoch: number): void {
    if (epoch !== this.epoch) this.seq = 0;
    this.epoch = epoch;
    this.paused = false;
    this.schedule();
  }

  /** Fenced: nothing waiting is written; its callers learn it failed. */
  fence(): void {
    this.paused = true;
    const waiting = [...this.sealed.splice(0), ...(this.current ? [this.current] : [])];
    this.current = null;
    for (const b of waiting) this.fail(b, new Error('cluster node fenced'));
  }

  /** The batch ops are being added to (made on first use). */
  private batch(): Batch {
    let b = this.current;
    if (!b || b.ops.length >= MAX_OPS || b.bytes >= MAX_BYTES) {
      if (b) this.sealed.push(b);
      b = this.current = { seq: 0, ops: [], writes: [], blobs: [], bytes: 0, results: [], durable: [], lastSession: null };
    }
    this.schedule();
    return b;
  }

  /** Full batches waiting behind the in-flight one, oldest first. */
  private readonly sealed: Batch[] = [];

  /** Add a blob to the current batch; its 1-based index for ops. */
  blob(buf: Buffer): number {
    const b = this.batch();
    b.blobs.push(buf);
    b.bytes += buf.length;
    return b.blobs.length;
  }

  /** Add an op; `onResult` gets the script's answer for it. Returns its 1-based index in the batch. */
  push(op: Op, onResult?: (r: unknown) => void): number {
    const b = this.batch();
    b.ops.push(op);
    b.writes.push(null);
    b.results.push(onResult ?? null);
    b.lastSession = null;
    return b.ops.length;
  }

  /**
   * A write of a persistent session, added to the session's `s` op when it is the last op of the
   * batch (else a new one, so ops keep their order); `gen` is the session generation this node holds.
   * `onResult` is the op's: kept from the write that opened it (every write of a session passes the same).
   */
  sessionWrite(sk: string, gen: number, w: Write, onResult?: (r: unknown) => void): number {
    const b = this.batch();
    if (b.lastSession !== sk || b.ops[b.ops.length - 1]!.g !== gen) {
      b.ops.push({ o: 's', k: sk, g: gen });
      b.writes.push([]);
      b.results.push(onResult ?? null);
      b.lastSession = sk;
    }
    b.writes[b.ops.length - 1]!.push(w);
    return b.ops.length;
  }

  /** Index of the current batch's last op (the guard of a publish that follows it), or 0. */
  lastSessionOp(sk: string): number {
    const b = this.current;
    if (!b) return 0;
    for (let i = b.ops.length - 1; i >= 0; i--) if (b.ops[i]!.o === 's' && b.ops[i]!.k === sk) return i + 1;
    return 0;
  }

  /** `cb(null)` once everything pushed so far is in Redis; `cb(err)` when its batch failed. */
  whenDurable(cb: Callback): void {
    const b = this.current ?? this.sealed[this.sealed.length - 1] ?? this.inFlight;
    if (!b) return cb(null);
    b.durable.push(cb);
  }

  /** Resolves once nothing is waiting or in flight (graceful stop, tests). */
  idle(): Promise<void> {
    if (!this.current && !this.inFlight && this.sealed.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get pending(): number {
    return (this.current?.ops.length ?? 0) + (this.inFlight?.ops.length ?? 0);
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight || this.paused) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.next();
    });
  }

  private next(): void {
    if (this.inFlight || this.paused) return;
    const b = this.sealed.shift() ?? this.current;
    if (!b) return;
    if (b === this.current) this.current = null;
    b.seq = ++this.seq;
    this.inFlight = b;
    void this.send(b);
  }

  /** The ops as JSON: lazily built parts resolved now, in order. */
  private encode(b: Batch): string {
    const ops = b.ops.map((op, i) => {
      const writes = b.writes[i];
      if (!writes) return op;
      const w: unknown[] = [];
      for (const x of writes) {
        const v = typeof x === 'function' ? x() : x;
        if (v) w.push(v);
      }
      return { ...op, w };
    });
    return JSON.stringify(ops);
  }

  private async send(b: Batch): Promise<void> {
    const json = this.encode(b);
    for (;;) {
      let r: unknown;
      try {
        r = await this.d.link().scriptBuf(COMMIT, [MK.batch(this.d.nodeId)], [this.d.nodeId, String(this.epoch), String(b.seq), json, ...b.blobs]);
      } catch (err) {
        if (this.paused) return this.finish(b, new Error('cluster node fenced'));
        this.stats.retries++;
        this.d.logger.warn({ event: 'cluster_mqtt_write_failed', ops: b.ops.length, err: String(err) }, 'MQTT batch failed, sending it again');
        await new Promise((res) => setTimeout(res, this.retryMs));
        this.retryMs = Math.min(this.retryMs * 2, 1_000);
        continue;
      }
      this.retryMs = 50;
      const reply = r as [Buffer | string, unknown[]?];
      if (String(reply[0]) !== 'OK') {
        this.finish(b, new Error('cluster node fenced'));
        this.d.onFenced();
        return;
      }
      this.stats.batches++;
      this.stats.ops += b.ops.length;
      const results = reply[1] ?? [];
      for (let i = 0; i < b.results.length; i++) {
        const f = b.results[i];
        if (f) this.guard(() => f(results[i]));
      }
      return this.finish(b, null);
    }
  }

  private finish(b: Batch, err: Error | null): void {
    if (err) this.fail(b, err);
    else for (const cb of b.durable) this.guard(() => cb(null));
    this.inFlight = null;
    if (this.current || this.sealed.length > 0) return this.schedule();
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  private fail(b: Batch, err: Error): void {
    for (let i = 0; i < b.results.length; i++) {
      const f = b.results[i];
      if (f) this.guard(() => f(undefined));
    }
    for (const cb of b.durable) this.guard(() => cb(err));
  }

  private guard(f: () => void): void {
    try {
      f();
    } catch (err) {
      this.d.logger.error({ event: 'cluster_mqtt_callback_failed', err }, 'MQTT batch callback failed');
    }
  }
}
