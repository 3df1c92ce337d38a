/**
 * Scheduler: timers come from here, never from global setTimeout in protocol code.
 * SystemScheduler wraps Node timers (unref'd so a timer never keeps the process alive);
 * ManualScheduler (manual.ts) drives tests without sleeping.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Scheduler {
  /** Run `fn` once after `delayMs` milliseconds (monotonic time). */
  setTimer(delayMs: number, fn: () => void): TimerHandle;
}

export const systemScheduler: Scheduler = {
  setTimer(delayMs, fn) {
    const t = setTimeout(fn, Math.max(0, delayMs));
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};
