/**
 * The lazily made part of an MqttSession (session-state.ts), a field of it rather than a base
 * class, so a clean session with nothing in flight holds only a few fields: the QoS 1/2 state
 * (inflight, awaiting PUBREL, queue, drop counters, armed timers, packet id cursor) lives in a Flow
 * made on first use, each map inside it on its own first use. Shared read-only defaults stand in
 * for the parts not made yet.
 */
import type { MQueue } from './mqueue.js';
import type { Deliverable, DropReason, InflightEntry, Link, SessionEffect, SessionTimer } from './types.js';

/** The QoS 1/2 side of a session, made on its first use (each map inside it on its own first use). */
export class Flow<M extends Deliverable> {
  cursor = 1;
  /** When the armed timers fire (wall ms), null when not armed. */
  relTimerAt: number | null = null;
  retryTimerAt: number | null = null;
  inflight: Map<number, InflightEntry<M>> | null = null;
  /** Inbound QoS 2 packet id -> when the PUBLISH arrived (wall ms); insertion = arrival order. */
  rel: Map<number, number> | null = null;
  queue: MQueue<M> | null = null;
  drops: Record<DropReason, number> | null = null;

  /** `timer` is armed to fire at `atMs` (wall ms). */
  armed(timer: SessionTimer, atMs: number): void {
    if (timer === 'await_rel') this.relTimerAt = atMs;
    else this.retryTimerAt = atMs;
  }

  /** `timer` is no longer armed; false when it was not. */
  disarm(timer: SessionTimer): boolean {
    if (timer === 'await_rel') {
      if (this.relTimerAt === null) return false;
      this.relTimerAt = null;
    } else {
      if (this.retryTimerAt === null) return false;
      this.retryTimerAt = null;
    }
    return true;
  }

  /** v3 timed resend: start (or restart) the clock of `e` after it was sent; when to arm the retry timer, or null (an earlier one is armed). */
  startRetry(e: InflightEntry<M>, intervalMs: number, nowMs: number): number | null {
    e.retryDelayMs = intervalMs;
    e.retryAt = nowMs + intervalMs;
    return this.retryTimerAt === null || e.retryAt < this.retryTimerAt ? e.retryAt : null;
  }

  /**
   * v3 timed resend (emqttd's unack_timeout, doubling, never giving up): every entry due at
   * `nowMs` again into `out`, in first-send order (PUBLISH with DUP=1, or PUBREL), its interval
   * doubled; returns the next deadline, or null when none is left.
   */
  resendDue(nowMs: number, out: SessionEffect<M>[]): number | null {
    let next = Infinity;
    if (this.inflight) {
      for (const e of this.inflight.values()) {
        if (e.retryAt === 0) continue;
        if (e.retryAt <= nowMs) {
          out.push(e.phase === 'await_pubcomp' ? { type: 'pubrel', id: e.id, reasonCode: 0 } : { type: 'publish', id: e.id, msg: e.msg, dup: true });
          e.retryDelayMs *= 2;
          e.retryAt = nowMs + e.retryDelayMs;
        }
        next = Math.min(next, e.retryAt);
      }
    }
    return next === Infinity ? null : next;
  }
}

export const OFFLINE: Link = Object.freeze({ state: 'offline' });

/** Shared by every session that has not used a map yet; typed read-only, and refuses writes at run time too. */
export const EMPTY_MAP: ReadonlyMap<unknown, never> = Object.freeze(
  Object.defineProperty(new Map<unknown, never>(), 'set', {
    value: (): never => {
      throw new TypeError('mqtt-session: the shared empty map is read-only');
    },
  }),
);

export const EMPTY_QUEUE: Pick<MQueue<never>, 'length' | 'entries'> = Object.freeze({ length: 0, entries: () => [] });

export const NO_DROPS: Readonly<Record<DropReason, number>> = Object.freeze({
  queue_full: 0,
  qos0_not_queued: 0,
  expired: 0,
  awaiting_rel_full: 0,
  await_rel_timeout: 0,
});
