/**
 * Timer coalescing (the kernel's timer slack, applied to Vigil's own timers): every timer fires at
 * the next multiple of `slackMs` of the monotonic clock at or after its due time, never early. The
 * liveness workers keep one timer each for their earliest deadline; at thousands of pings per
 * second those deadlines lie a millisecond or two apart and each would wake the process on its
 * own (an epoll wakeup and a context switch: most of a ping round trip's CPU on an idle machine).
 * On a grid of 10 ms the pings and kills due within one slot go out in one turn, at the price of
 * firing up to `slackMs` late. 0 or less: the base scheduler, unchanged.
 */
import type { Clock } from './clock.js';
import type { Scheduler } from './scheduler.js';

export function coalescingScheduler(base: Scheduler, clock: Clock, slackMs: number): Scheduler {
  if (!(slackMs > 0)) return base;
  return {
    setTimer(delayMs, fn) {
      const now = clock.monotonic();
      const at = Math.ceil((now + Math.max(0, delayMs)) / slackMs) * slackMs;
      return base.setTimer(at - now, fn);
    },
  };
}
