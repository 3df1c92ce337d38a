/**
 * Writes this node's presence changes to Redis: it listens to the local liveness registry (online,
 * offline, notable liveness states) and takes availability and metadata from the adapters, turns
 * each into an APPLY op (scripts.ts) and sends the ops of one event-loop turn in one script call
 * (one round trip and one Redis call for a burst of connects). One call in flight at a time keeps
 * the order; a failed call (Redis restarting) is retried with the same ops, which are idempotent
 * (an `on` replayed with its connection token answers REPLAY, the rest are compare-and-set).
 *
 * Each local connection has a token `<node>:<boot nonce>:<n>` (never reused, even by a restart
 * under the same node_id): every op after `on` names it, so a write of a connection that was
 * taken over or swept is STALE in Redis and dropped (counted in `stale`).
 *
 * Takeover across nodes: the feed is the guarantee, not a message. When the mirror applies an
 * `online` of an endpoint this node holds, with a later seq than this node's own `on`, the local
 * connection is killed with `taken_over` (MQTT v5 0x8E, XMPP `conflict`); if the own `on` has no
 * answer yet, the later seq is remembered and compared when it comes.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { EndpointRef, LivenessEvent, LivenessHandle, LivenessRegistry, LivenessState, Transport } from '../liveness/types.js';
import type { Availability, Meta } from '../presence/types.js';
import type { Clock } from '../time/clock.js';
import { K, epName } from './keys.js';
import type { MirrorRow } from './mirror-fields.js';
import type { RedisLink } from './redis.js';
import { APPLY } from './scripts.js';

interface LocalEp {
  readonly handle: LivenessHandle;
  readonly name: string;
  readonly conn: string;
  /** Seq of this connection's `online` (0 until APPLY answered). */
  seq: number;
  gen: number;
  /** Seq of another node's `online` seen before our own answer (0 = none). */
  supersededAt: number;
}

type Op = { o: string; k: string; c: string; at: number } & Record<string, unknown>;

/** Ops of one connection not yet sent, while its `on` is among them (both O(1) to find). */
interface Unsent {
  on: Op;
  ops: Op[];
}

export interface WriterDeps {
  link: RedisLink;
  liveness: LivenessRegistry;
  clock: Clock;
  nodeId: string;
  feedSize: number;
  logger: Logger;
  /** Extra figures of an endpoint merged into its meta at offline (MQTT session figures). */
  figures(transport: Transport, host: string, id: string): Meta;
  /** APPLY answered FENCED: the writer paused with its queue; membership decides (fence or recover). */
  onFenced(): void;
  /** Count an event in /metrics. */
  count(event: 'stale_write' | 'taken_over'): void;
}

const NOTABLE: ReadonlySet<LivenessState> = new Set(['unresponsive', 'paused']);
const BATCH = 500;
/**
 * How long ops gather before one APPLY: a round trip costs the node ~30 us of CPU (encode, two
 * system calls, decode), so under a connect storm a 1 ms window turns many calls into one
 * (bench/cluster.ts); alone, an op waits 1 ms more.
 */
const GATHER_MS = 1;

export class PresenceWriter {
  epoch = 0;
  /** Writes dropped by Redis as stale (a late write of a taken-over or swept connection). */
  stale = 0;
  /** Local connections closed because a newer one took them over on another node. */
  takenOver = 0;
  private readonly byName = new Map<string, LocalEp>();
  private readonly announced = new Map<LocalEp, LivenessState>();
  private queue: Op[] = [];
  /** Connections whose `on` is still queued, not sent: their ops can be merged or dropped. */
  private readonly unsent = new Map<string, Unsent>();
  /** Ops taken out of the queue unsent (a connection that came and went before any was sent). */
  private readonly dropped = new Set<Op>();
  private scheduled = false;
  private inFlight: Promise<void> | null = null;
  private serial = 0;
  private readonly nonce = randomBytes(4).toString('hex');
  private paused = true;
  private readonly unsubscribe: () => void;
  private retryMs = 50;
  /** The last APPLY failed (Redis unreachable): queued ops wait. */
  private failing = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly d: WriterDeps) {
    this.unsubscribe = d.liveness.subscribe((e) => this.onEvent(e));
  }

  /** Joined with `epoch`: flush what waited. */
  resume(epoch: number): void {
    this.epoch = epoch;
    this.paused = false;
    this.schedule();
  }

  /** Fenced: stop writing, forget what waited, close every local connection (their records are the sweeper's). */
  fence(): void {
    this.paused = true;
    // Nothing queued is written under a later epoch: what was sent is swept with the old epoch
    // (the node sweeps its previous epoch when it joins again), what was not never happened.
    this.queue = [];
    this.unsent.clear();
    this.dropped.clear();
    this.callbacks.clear();
    for (const ep of [...this.byName.values()]) ep.handle.kill('node_down');
    this.byName.clear();
    this.announced.clear();
  }

  /**
   * Redis lost data and this node rejoined: write every local connection again. An `on` with the
   * same token answers REPLAY where Redis still has it, and takes a new generation where it does
   * not (if another node also holds that id, the later `online` wins there as for any takeover).
   */
  reassert(): void {
    for (const ep of this.byName.values()) {
      ep.seq = 0;
      this.push(ep, { o: 'on', k: ep.name, c: ep.conn, at: this.d.clock.now(), av: ep.handle.ref.transport === 'mqtt' ? 1 : 0, v: ep.handle.via ?? '' }, (r) => this.onOnline(ep, r));
    }
  }

  stop(): void {
    this.unsubscribe();
  }

  get localCount(): number {
    return this.byName.size;
  }

  /** Resolves once every queued op has been answered (graceful stop, tests). */
  idle(): Promise<void> {
    if (this.queue.length === 0 && !this.inFlight) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private local(ref: EndpointRef): LocalEp | undefined {
    const ep = this.byName.get(epName(ref.host, ref.transport, ref.id));
    return ep && ep.handle.ref.generation === ref.generation ? ep : undefined;
  }

  private onEvent(e: LivenessEvent): void {
    switch (e.type) {
      case 'online': {
        const handle = this.d.liveness.get(e.ref);
        if (!handle || handle.ref.generation !== e.ref.generation) return;
        const name = epName(e.ref.host, e.ref.transport, e.ref.id);
        const ep: LocalEp = { handle, name, conn: `${this.d.nodeId}:${this.nonce}:${(++this.serial).toString(36)}`, seq: 0, gen: 0, supersededAt: 0 };
        this.byName.set(name, ep);
        this.push(ep, { o: 'on', k: name, c: ep.conn, at: e.at, av: e.ref.transport === 'mqtt' ? 1 : 0, v: handle.via ?? '' }, (r) => this.onOnline(ep, r));
        return;
      }
      case 'offline': {
        const ep = this.local(e.ref);
        if (!ep) return;
        this.byName.delete(ep.name);
        this.announced.delete(ep);
        const h = ep.handle;
        const figures = this.d.figures(e.ref.transport, e.ref.host, e.ref.id);
        // Connected and gone before anything was sent, while Redis is away (or before joining):
        // neither is written. Otherwise online and offline both reach the feed, as on one node.
        const u = this.paused || this.failing ? this.unsent.get(ep.conn) : undefined;
        if (u) {
          this.unsent.delete(ep.conn);
          for (const op of u.ops) {
            this.dropped.add(op);
            this.callbacks.delete(op);
          }
          return;
        }
        const op: Op = { o: 'off', k: ep.name, c: ep.conn, at: e.at, r: e.reason, la: h.lastActivityAt(), rt: h.lastRttMs ?? '' };
        if (Object.keys(figures).length > 0) op.m = figures;
        this.push(ep, op);
        return;
      }
      case 'state': {
        const ep = this.local(e.ref);
        if (!ep) return;
        const was = this.announced.get(ep) ?? null;
        if (!NOTABLE.has(e.state) && (was === null || !NOTABLE.has(was))) return;
        this.announced.set(ep, e.state);
        const h = ep.handle;
        this.push(ep, { o: 'lv', k: ep.name, c: ep.conn, at: e.at, s: e.state, la: h.lastActivityAt(), rt: h.lastRttMs ?? '' });
        return;
      }
      default:
        return;
    }
  }

  setAvailability(ref: EndpointRef, a: Availability): void {
    const ep = this.local(ref);
    if (!ep) return;
    this.push(ep, { o: 'av', k: ep.name, c: ep.conn, at: this.d.clock.now(), av: a.available ? 1 : 0, sh: a.show ?? '', su: a.status ?? '', pr: a.priority ?? '' });
  }

  setMeta(ref: EndpointRef, meta: Meta, announce: boolean): void {
    const ep = this.local(ref);
    if (!ep) return;
    // Meta set right after tracking rides on the pending `on` (one op, one feed entry per connect).
    const pending = this.unsent.get(ep.conn)?.on;
    if (pending && !announce) {
      pending.m = { ...((pending.m as Meta | undefined) ?? {}), ...meta };
      return;
    }
    this.push(ep, { o: 'me', k: ep.name, c: ep.conn, at: this.d.clock.now(), m: meta, a: announce });
  }

  /** The mirror applied an entry: a later `online` of an endpoint held here takes it over. */
  onEntry(seq: number, kind: string, row: MirrorRow): void {
    if (kind !== 'online') return;
    const ep = this.byName.get(row.name);
    if (!ep || row.conn === ep.conn || row.node === this.d.nodeId) return;
    if (ep.seq === 0) ep.supersededAt = Math.max(ep.supersededAt, seq);
    else if (seq > ep.seq) this.takeOver(ep);
  }

  private takeOver(ep: LocalEp): void {
    if (this.byName.get(ep.name) !== ep) return;
    this.takenOver++;
    this.d.count('taken_over');
    ep.handle.kill('taken_over');
  }

  private onOnline(ep: LocalEp, r: [number, number, number, string]): void {
    ep.gen = Number(r[0]);
    ep.seq = Number(r[1]);
    if (ep.supersededAt > ep.seq && ep.seq > 0) this.takeOver(ep);
  }

  private readonly callbacks = new Map<Op, (r: [number, number, number, string]) => void>();

  private push(_ep: LocalEp, op: Op, cb?: (r: [number, number, number, string]) => void): void {
    this.queue.push(op);
    if (op.o === 'on') this.unsent.set(op.c, { on: op, ops: [op] });
    else this.unsent.get(op.c)?.ops.push(op);
    if (cb) this.callbacks.set(op, cb);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight || this.paused) return;
    this.scheduled = true;
    setTimeout(() => {
      this.scheduled = false;
      if (!this.inFlight && !this.paused) this.inFlight = this.flush().finally(() => this.afterFlush());
    }, GATHER_MS);
  }

  private afterFlush(): void {
    this.inFlight = null;
    if (this.queue.length > 0) return this.schedule();
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  /** Up to BATCH ops off the head of the queue, dropped ones left out; their connections' ops are now fixed. */
  private takeBatch(): Op[] {
    const batch: Op[] = [];
    let i = 0;
    while (batch.length < BATCH && i < this.queue.length) {
      const op = this.queue[i++]!;
      if (this.dropped.delete(op)) continue;
      if (op.o === 'on' && this.unsent.get(op.c)?.on === op) this.unsent.delete(op.c);
      batch.push(op);
    }
    this.queue.splice(0, i);
    return batch;
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0 && !this.paused) {
      const batch = this.takeBatch();
      if (batch.length === 0) continue;
      let r: [string, [number, number, number, string][]] | [string];
      try {
        r = (await this.d.link.script(APPLY, [K.seq], [this.d.nodeId, String(this.epoch), String(this.d.feedSize), JSON.stringify(batch)])) as typeof r;
      } catch (err) {
        this.queue.unshift(...batch); // sent again as it was (idempotent ops)
        this.failing = true;
        this.d.logger.warn({ event: 'cluster_write_failed', ops: batch.length, err: String(err) }, 'presence write failed, retrying');
        await new Promise((res) => setTimeout(res, this.retryMs));
        this.retryMs = Math.min(this.retryMs * 2, 1_000);
        continue;
      }
      this.retryMs = 50;
      this.failing = false;
      if (r[0] === 'FENCED') {
        this.queue.unshift(...batch);
        this.paused = true;
        this.d.onFenced();
        return;
      }
      const results = r[1] ?? [];
      batch.forEach((op, i) => {
        const res = results[i];
        const cb = this.callbacks.get(op);
        this.callbacks.delete(op);
        if (!res) return;
        if (res[3] === 'STALE') {
          this.stale++;
          this.d.count('stale_write');
        }
        else cb?.(res);
      });
    }
  }
}
