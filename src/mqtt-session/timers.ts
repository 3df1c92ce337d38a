/**
 * Carries out the timer effects of one session (`arm` replaces the armed timer of that kind,
 * `cancel` stops it) on an injected Scheduler; `fire(timer)` is then fed back to
 * `session.timeout(timer, now)` by the owner. At most two timers per session (await_rel, retry).
 */
import type { Scheduler, TimerHandle } from '../time/scheduler.js';
import type { SessionEffect, SessionTimer } from './types.js';

export class SessionTimers {
  private readonly handles: Partial<Record<SessionTimer, TimerHandle>> = {};

  constructor(
    private readonly scheduler: Scheduler,
    private readonly fire: (timer: SessionTimer) => void,
  ) {}

  /** Apply a timer effect; false for any other effect. */
  apply(e: SessionEffect<unknown>): boolean {
    if (e.type !== 'arm' && e.type !== 'cancel') return false;
    this.handles[e.timer]?.cancel();
    delete this.handles[e.timer];
    if (e.type === 'arm') {
      const timer = e.timer;
      this.handles[timer] = this.scheduler.setTimer(e.delayMs, () => {
        delete this.handles[timer];
        this.fire(timer);
      });
    }
    return true;
  }

  cancelAll(): void {
    for (const h of Object.values(this.handles)) h.cancel();
    for (const k of Object.keys(this.handles) as SessionTimer[]) delete this.handles[k];
  }
}
