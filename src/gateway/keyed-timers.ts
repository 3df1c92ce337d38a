/** One restartable timer per key on an injected Scheduler (debounce per client id, watcher timers). */
import type { Scheduler, TimerHandle } from '../time/scheduler.js';

export class KeyedTimers<K> {
  private readonly timers = new Map<K, TimerHandle>();

  constructor(private readonly scheduler: Scheduler) {}

  /** (Re)start the timer of `key`: `fn` runs once after `delayMs` unless cancelled or re-armed. */
  arm(key: K, delayMs: number, fn: () => void): void {
    this.timers.get(key)?.cancel();
    this.timers.set(
      key,
      this.scheduler.setTimer(delayMs, () => {
        this.timers.delete(key);
        fn();
      }),
    );
  }

  cancel(key: K): void {
    this.timers.get(key)?.cancel();
    this.timers.delete(key);
  }

  cancelAll(): void {
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }
}
