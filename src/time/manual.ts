/**
 * ManualClock + ManualScheduler for tests: time moves only when the test calls advance().
 * Timers due at the same instant fire in the order they were set (FIFO), like Node's.
 */
import type { Clock } from './clock.js';
import type { Scheduler, TimerHandle } from './scheduler.js';

interface PendingTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class ManualClock implements Clock {
  constructor(private ms = 1_700_000_000_000) {}
  now(): number {
    return this.ms;
  }
  monotonic(): number {
    return this.ms;
  }
  /** Moves time without firing timers; use ManualScheduler.advance to fire them. */
  set(ms: number): void {
    this.ms = ms;
  }
}

export class ManualScheduler implements Scheduler {
  private timers: PendingTimer[] = [];
  private seq = 0;

  constructor(readonly clock: ManualClock = new ManualClock()) {}

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const timer: PendingTimer = {
      at: this.clock.monotonic() + Math.max(0, delayMs),
      seq: this.seq++,
      fn,
      cancelled: false,
    };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Number of timers set and not yet fired or cancelled. */
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /**
   * Advance time by `ms`, firing every timer that falls due on the way, in time order, with the
   * clock set to each timer's due time while it runs (timers set by a firing timer fire too).
   */
  advance(ms: number): void {
    const end = this.clock.monotonic() + ms;
    for (;;) {
      const next = this.nextDue(end);
      if (!next) break;
      this.timers.splice(this.timers.indexOf(next), 1);
      this.clock.set(next.at);
      next.fn();
    }
    this.clock.set(end);
  }

  /** Fire what is due now without moving time. */
  runDue(): void {
    this.advance(0);
  }

  private nextDue(end: number): PendingTimer | undefined {
    this.timers = this.timers.filter((t) => !t.cancelled);
    let best: PendingTimer | undefined;
    for (const t of this.timers) {
      if (t.at > end) continue;
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
