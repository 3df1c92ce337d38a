/**
 * The liveness core's view of time: integer milliseconds since the registry started.
 *
 * Rounding never makes a deadline early: a moment that starts a deadline (activity, probe sent) is
 * rounded up by `stamp()`, and "is it due" compares with `now()`, rounded down. So a keepalive of
 * 2 s closes at >= 3.000 s of real silence, never at 2.9995 s.
 *
 * Integers below 2^31 are V8 Smis, stored in an object field without a boxed HeapNumber, which keeps
 * an endpoint small (see docs/benchmarks.md); 2^31 ms is 24.8 days of uptime, after which the values
 * still compare correctly, only the objects grow.
 *
 * Two readings:
 *   - `now()` / `stamp()` read the injected Clock every time (deadlines, round-trip times);
 *   - `activity()` is what `touch()` stores. In 'turn' mode it reads the clock once per event-loop turn
 *     (the first touch of a turn, invalidated by a microtask), so a burst of stanzas parsed from one
 *     socket read costs one clock read; the stored time is then at most one callback old, which only
 *     makes a deadline earlier, never later. Reading the clock costs ~50 ns on Node 20, the whole touch
 *     budget (measured in bench/liveness.ts). 'exact' mode is for tests driven by a ManualClock.
 */
import type { Clock } from '../time/clock.js';

export type ActivityTime = 'exact' | 'turn';

export class TimeSource {
  private readonly origin: number;
  private cached = 0;
  private valid = false;
  private readonly perTurn: boolean;
  private readonly invalidate = (): void => {
    this.valid = false;
  };

  constructor(
    private readonly clock: Clock,
    mode: ActivityTime,
  ) {
    this.origin = clock.monotonic();
    this.perTurn = mode === 'turn';
  }

  /** Current time, rounded down: for "is it due" and timer delays. */
  now(): number {
    return Math.floor(this.clock.monotonic() - this.origin);
  }

  /** Current time, rounded up: for moments a deadline is counted from. */
  stamp(): number {
    return Math.ceil(this.clock.monotonic() - this.origin);
  }

  /** Milliseconds (fractional) from the current instant until core time `t`; 0 when past. */
  delayUntil(t: number): number {
    return Math.max(0, t - (this.clock.monotonic() - this.origin));
  }

  /** The stamp touch() stores: exact, or the first stamp of this event-loop turn. */
  activity(): number {
    if (!this.perTurn) return this.stamp();
    if (this.valid) return this.cached;
    this.cached = this.stamp();
    this.valid = true;
    queueMicrotask(this.invalidate);
    return this.cached;
  }

  /** Core time -> the Clock's monotonic ms. */
  toMonotonic(t: number): number {
    return this.origin + t;
  }

  /** Core time -> wall clock ms, through the current offset between the two clocks. */
  toWall(t: number): number {
    return this.clock.now() - (this.now() - t);
  }

  wallNow(): number {
    return this.clock.now();
  }
}
