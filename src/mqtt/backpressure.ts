/**
 * QoS 1/2 back-pressure (issue 12): a publisher that outpaces a subscriber is paused, so the
 * subscriber's queue does not drop messages the publisher was told are delivered (its PUBACK goes
 * out once the message is routed). What Mosquitto gets by reading one packet per socket per loop
 * pass, and TCP gives any pipe, with explicit water marks:
 *
 *   broker.route(conn, msg):  routing(conn) -> router.publish -> delivered(session)* -> routed()
 *     delivered: a QoS 1/2 delivery left an ONLINE subscriber with queued >= high: it is full;
 *     routed:    the publisher waits on every full subscriber it fed in this pass and is
 *                throttled (connection-input.ts: the rest of its read stays unframed, its
 *                stream is paused);
 *   acked(session):  queued <= low: the subscriber releases its publishers; one reads on once it
 *                waits on no subscriber (on the next turn, never inside the subscriber's read);
 *   deadline:  a subscriber full for backpressure_timeout is stalled: its publishers read on and it
 *                pauses nobody until its queue is back at the low-water mark; the queue's drop
 *                rules (src/mqtt-session/mqueue.ts) apply meanwhile, so a subscriber that never
 *                acknowledges cannot stall its publishers;
 *   gone(session): the subscriber closed: its publishers read on (an offline queue pauses no one).
 *
 * Invariants: a publisher is throttled iff it is a key of `waits`; every publisher in a full
 * subscriber's set is counted once in `waits`; only a pass with a publisher (a client's PUBLISH,
 * not a will or a retained message) pauses anyone. Costs nothing while no queue is above its mark:
 * `delivered` is two field reads, `acked` one map size.
 */
import type { FlowObserver, QueueView } from '../mqtt-session/session-service.js';
import type { Scheduler, TimerHandle } from '../time/scheduler.js';

/** A publisher as back-pressure sees it (the connection). */
export interface Throttled {
  readonly ended: boolean;
  /** Stop reading: frame no more of the current read, pause the stream. */
  throttle(): void;
  /** Read on (soon: not inside the caller's turn). */
  unthrottle(): void;
}

export interface Thresholds {
  /** Queue length that pauses publishers; 0 = back-pressure off. */
  high: number;
  low: number;
  timeoutMs: number;
}

export interface PressureOptions {
  backpressure_high_water: number;
  backpressure_low_water: number;
  backpressure_timeout: number;
  max_mqueue_len: number;
  max_pending: number;
}

/** The marks of a host: high at most half the queue cap (room for in-flight routing), low at most half of high. */
export function thresholds(o: PressureOptions): Thresholds {
  const cap = Math.min(o.max_mqueue_len, o.max_pending || Infinity);
  const high = Math.min(o.backpressure_high_water, Math.floor(cap / 2));
  return { high, low: Math.min(o.backpressure_low_water, Math.floor(high / 2)), timeoutMs: o.backpressure_timeout * 1000 };
}

export interface BackpressureDeps {
  thresholds(host: string): Thresholds;
  scheduler: Scheduler;
  /** A publisher was paused / a full subscriber's deadline passed (metrics). */
  paused(): void;
  stalled(): void;
}

interface Full {
  readonly publishers: Set<Throttled>;
  timer: TimerHandle | null;
  stalled: boolean;
}

export class Backpressure implements FlowObserver {
  private publisher: Throttled | null = null;
  /** Full subscribers fed in the current pass. */
  private readonly fed: QueueView[] = [];
  private readonly full = new Map<QueueView, Full>();
  /** Throttled publishers -> how many full subscribers they wait on. */
  private readonly waits = new Map<Throttled, number>();

  constructor(private readonly deps: BackpressureDeps) {}

  /** Publishers paused now (tests, operators). */
  get pausedCount(): number {
    return this.waits.size;
  }

  routing(publisher: Throttled | null): void {
    this.publisher = publisher;
  }

  routed(): void {
    const p = this.publisher;
    this.publisher = null;
    if (p === null || this.fed.length === 0) return;
    const was = this.waits.get(p) ?? 0;
    let n = was;
    for (const s of this.fed) {
      const f = this.full.get(s)!;
      if (!f.publishers.has(p)) {
        f.publishers.add(p);
        n++;
      }
    }
    this.fed.length = 0;
    if (n === was || p.ended) return;
    this.waits.set(p, n);
    if (was === 0) {
      this.deps.paused();
      p.throttle();
    }
  }

  delivered(s: QueueView): void {
    if (this.publisher === null || !s.online) return;
    const t = this.deps.thresholds(s.host);
    if (t.high === 0 || s.queued < t.high) return;
    let f = this.full.get(s);
    if (f === undefined) {
      const entry: Full = { publishers: new Set(), timer: null, stalled: false };
      entry.timer = this.deps.scheduler.setTimer(t.timeoutMs, () => this.stall(s, entry));
      this.full.set(s, (f = entry));
    }
    if (!f.stalled && !this.fed.includes(s)) this.fed.push(s);
  }

  acked(s: QueueView): void {
    if (this.full.size === 0) return;
    const f = this.full.get(s);
    if (f === undefined || s.queued > this.deps.thresholds(s.host).low) return;
    this.drop(s, f);
  }

  /** The subscriber's connection closed. */
  gone(s: QueueView): void {
    const f = this.full.get(s);
    if (f !== undefined) this.drop(s, f);
  }

  private drop(s: QueueView, f: Full): void {
    this.full.delete(s);
    f.timer?.cancel();
    this.release(f);
  }

  private stall(s: QueueView, f: Full): void {
    if (this.full.get(s) !== f) return;
    f.timer = null;
    f.stalled = true;
    this.deps.stalled();
    this.release(f);
  }

  private release(f: Full): void {
    for (const p of f.publishers) {
      const n = (this.waits.get(p) ?? 1) - 1;
      if (n > 0) {
        this.waits.set(p, n);
      } else {
        this.waits.delete(p);
        p.unthrottle();
      }
    }
    f.publishers.clear();
  }
}
