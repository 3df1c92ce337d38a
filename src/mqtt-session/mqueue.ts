/**
 * The message queue of one session (emqttd_mqueue / emqx_mqueue): messages for a disconnected
 * persistent session, or beyond a connected client's inflight window, waiting their turn.
 *
 *            in(msg)                                                       out()
 *               |        priority 255  [ m9 ]                                ^
 *               +------> priority  10  [ m4 | m7 | m8 ]  ---- highest first, FIFO inside ----+
 *               |        default (0)   [ m1 | m2 | m3 | m5 | m6 ]
 *               |         (oldest at the left; each message has a session-wide seq number)
 *
 * Priorities are optional (`mqueue_priorities`: exact topic -> 1..255; other topics get
 * `mqueue_default_priority`, lowest = 0 or highest = 256). Without a table it is one FIFO.
 *
 * Drop rules (every drop is reported to the session, which counts it):
 *   1. max_len = 0: nothing is queued, the arriving message is dropped (queue_full).
 *   2. QoS 0 with store_qos0 = false: the arriving message is dropped (qos0_not_queued).
 *   3. Full, and a QoS 0 message is queued: the oldest QoS 0 of the lowest priority holding one is
 *      dropped, the arriving message goes in. QoS 0 goes first: it never had a delivery promise.
 *   4. Full, no QoS 0 queued, the arriving message is QoS 0: it is dropped (never evict QoS 1/2
 *      for QoS 0).
 *   5. Full, otherwise: the oldest message of the lowest priority is dropped and the arriving
 *      message goes in, unless that lowest priority is above the arriving one's: then the
 *      arriving message is dropped (never evict a more important message for a less important one).
 * The cap counts all priorities together (EMQX caps each priority separately; one cap is what
 * `max_mqueue_len` promises an operator sizing memory).
 *
 * Removal is lazy: an entry taken out or evicted is marked and skipped later, so in, out and each
 * drop rule cost O(1) amortised, whatever the length.
 */
import type { Deliverable, SessionLimits } from './types.js';

export interface QueueEntry<M> {
  readonly seq: number;
  readonly priority: number;
  readonly msg: M;
  gone: boolean;
}

export interface QueueOptions {
  maxLen: number;
  storeQos0: boolean;
  priorities: Readonly<Record<string, number>>;
  defaultPriority: 'lowest' | 'highest';
}

export type InResult<M> =
  | { queued: QueueEntry<M>; evicted: QueueEntry<M> | null }
  | { queued: null; refused: 'queue_full' | 'qos0_not_queued' };

const LOWEST = 0;
const HIGHEST = 256;

/** FIFO of entries with lazy deletion. */
class Fifo<M> {
  private items: QueueEntry<M>[] = [];
  private head = 0;

  push(e: QueueEntry<M>): void {
    this.items.push(e);
  }

  /** The oldest entry still present, removed from this FIFO (not marked). */
  shift(): QueueEntry<M> | undefined {
    while (this.head < this.items.length) {
      const e = this.items[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      if (!e.gone) return e;
    }
    return undefined;
  }

  *live(): IterableIterator<QueueEntry<M>> {
    for (let i = this.head; i < this.items.length; i++) if (!this.items[i]!.gone) yield this.items[i]!;
  }
}

class Bucket<M> {
  readonly all = new Fifo<M>();
  readonly qos0 = new Fifo<M>();
  live = 0;
  live0 = 0;
  constructor(readonly priority: number) {}
}

/** A session's queue options from its limits. */
export function queueOptionsOf(l: SessionLimits): QueueOptions {
  return {
    maxLen: l.maxMqueueLen,
    storeQos0: l.mqueueStoreQos0,
    priorities: l.mqueuePriorities,
    defaultPriority: l.mqueueDefaultPriority,
  };
}

export class MQueue<M extends Deliverable> {
  /** Buckets sorted by priority, highest first. */
  private buckets: Bucket<M>[] = [];
  private len = 0;
  private len0 = 0;
  private nextSeq = 1;

  constructor(private opts: QueueOptions) {}

  get length(): number {
    return this.len;
  }

  /** Change the limits (host config reload); takes effect at the next `in`. */
  configure(opts: QueueOptions): void {
    this.opts = opts;
  }

  priorityOf(topic: string): number {
    const p = this.opts.priorities[topic];
    if (p !== undefined) return p;
    return this.opts.defaultPriority === 'highest' ? HIGHEST : LOWEST;
  }

  in(msg: M): InResult<M> {
    const { maxLen, storeQos0 } = this.opts;
    const q0 = msg.qos === 0;
    if (maxLen <= 0) return { queued: null, refused: 'queue_full' }; // rule 1
    if (q0 && !storeQos0) return { queued: null, refused: 'qos0_not_queued' }; // rule 2
    const priority = this.priorityOf(msg.msg.topic);
    let evicted: QueueEntry<M> | null = null;
    if (this.len >= maxLen) {
      if (this.len0 > 0) evicted = this.evict(this.lowest((b) => b.live0 > 0)!, true); // rule 3
      else if (q0) return { queued: null, refused: 'queue_full' }; // rule 4
      else {
        const low = this.lowest((b) => b.live > 0)!;
        if (low.priority > priority) return { queued: null, refused: 'queue_full' }; // rule 5
        evicted = this.evict(low, false);
      }
    }
    return { queued: this.push(this.nextSeq++, priority, msg), evicted };
  }

  /** Put back a stored entry at start-up (in seq order); no drop rule applies. */
  restore(seq: number, msg: M): QueueEntry<M> {
    if (seq >= this.nextSeq) this.nextSeq = seq + 1;
    return this.push(seq, this.priorityOf(msg.msg.topic), msg);
  }

  /** The next message: highest priority first, oldest first inside a priority. */
  out(): QueueEntry<M> | undefined {
    for (const b of this.buckets) {
      if (b.live === 0) continue;
      const e = b.all.shift()!;
      this.remove(b, e);
      return e;
    }
    return undefined;
  }

  /** Every queued entry in the order out() would return them. */
  entries(): QueueEntry<M>[] {
    const out: QueueEntry<M>[] = [];
    for (const b of this.buckets) for (const e of b.all.live()) out.push(e);
    return out;
  }

  /** Empty the queue; returns what was in it (for the store deletes). */
  clear(): QueueEntry<M>[] {
    const all = this.entries();
    for (const e of all) e.gone = true;
    this.buckets = [];
    this.len = 0;
    this.len0 = 0;
    return all;
  }

  private push(seq: number, priority: number, msg: M): QueueEntry<M> {
    const e: QueueEntry<M> = { seq, priority, msg, gone: false };
    const b = this.bucket(priority);
    b.all.push(e);
    b.live++;
    this.len++;
    if (msg.qos === 0) {
      b.qos0.push(e);
      b.live0++;
      this.len0++;
    }
    return e;
  }

  private evict(b: Bucket<M>, qos0: boolean): QueueEntry<M> {
    const e = (qos0 ? b.qos0 : b.all).shift()!;
    this.remove(b, e);
    return e;
  }

  private remove(b: Bucket<M>, e: QueueEntry<M>): void {
    e.gone = true;
    b.live--;
    this.len--;
    if (e.msg.qos === 0) {
      b.live0--;
      this.len0--;
    }
  }

  private lowest(pred: (b: Bucket<M>) => boolean): Bucket<M> | undefined {
    for (let i = this.buckets.length - 1; i >= 0; i--) if (pred(this.buckets[i]!)) return this.buckets[i];
    return undefined;
  }

  private bucket(priority: number): Bucket<M> {
    let i = 0;
    while (i < this.buckets.length && this.buckets[i]!.priority > priority) i++;
    const found = this.buckets[i];
    if (found && found.priority === priority) return found;
    const b = new Bucket<M>(priority);
    this.buckets.splice(i, 0, b);
    return b;
  }
}
