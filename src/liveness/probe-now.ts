/**
 * Out-of-band probes (REST ping-now): each waiter has its own ack timer from the scheduler and
 * resolves on the next answer, on timeout, or with `gone` when the endpoint stops being live.
 * Unlike the idle probe it never applies timeout_action. Rare by nature, so a plain Map keyed by
 * endpoint keeps the per-endpoint object free of a field for it.
 */
import type { TimerHandle, Scheduler } from '../time/scheduler.js';
import type { Endpoint } from './endpoint.js';
import type { ProbeAnswer, ProbeNowResult } from './types.js';

interface Waiter {
  sentAt: number;
  timer: TimerHandle;
  resolve: (r: ProbeNowResult) => void;
}

export class ProbeNowWaiters {
  private readonly byEndpoint = new Map<Endpoint, Waiter[]>();

  constructor(private readonly scheduler: Scheduler) {}

  /** Register a waiter; resolves `timeout` after `ackMs`. */
  wait(ep: Endpoint, sentAt: number, ackMs: number): Promise<ProbeNowResult> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        sentAt,
        resolve,
        timer: this.scheduler.setTimer(ackMs, () => {
          this.drop(ep, waiter);
          resolve({ kind: 'timeout' });
        }),
      };
      const list = this.byEndpoint.get(ep);
      if (list) list.push(waiter);
      else this.byEndpoint.set(ep, [waiter]);
    });
  }

  /** Send time of the oldest outstanding out-of-band probe, or -1. */
  oldestSentAt(ep: Endpoint): number {
    return this.byEndpoint.get(ep)?.[0]?.sentAt ?? -1;
  }

  answer(ep: Endpoint, answer: ProbeAnswer, now: number): void {
    const kind = answer === 'pong' ? 'answered' : 'unsupported';
    for (const w of this.take(ep)) w.resolve({ kind, rttMs: Math.max(0, now - w.sentAt) });
  }

  gone(ep: Endpoint): void {
    for (const w of this.take(ep)) w.resolve({ kind: 'gone' });
  }

  private take(ep: Endpoint): Waiter[] {
    const list = this.byEndpoint.get(ep);
    if (!list) return [];
    this.byEndpoint.delete(ep);
    for (const w of list) w.timer.cancel();
    return list;
  }

  private drop(ep: Endpoint, waiter: Waiter): void {
    const list = this.byEndpoint.get(ep);
    if (!list) return;
    const rest = list.filter((w) => w !== waiter);
    if (rest.length) this.byEndpoint.set(ep, rest);
    else this.byEndpoint.delete(ep);
  }
}
