/**
 * The liveness core's view of time: integer milliseconds since the registry started.
 *
 * Integers below 2^31 are V8 Smis, stored in an object field without a boxed HeapNumber, which keeps
 * an endpoint small (see docs/benchmarks.md); 2^31 ms is 24.8 days of uptime, after which the values
 * still compare correctly, only the objects grow.
 *
 * Two readings:
 *   - `exact()` reads the injected Clock every time (deadlines, round-trip times);
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

  exact(): number {
    return Math.floor(this.clock.monotonic() - this.origin);
  }

  activity(): number {
    if (!this.perTurn) return this.exact();
    if (this.valid) return this.cached;
    this.cached = this.exact();
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
    return this.clock.now() - (this.exact() - t);
  }

  wallNow(): number {
    return this.clock.now();
  }
}
