/**
 * The sessions of one gateway: the per-id entries of sessions.ts, their debounce timers, and the
 * effects carried out on the presence table through PresenceIngest. Every input gets a sequence
 * number; a snapshot remembers the number it was requested at, so an event that came while it
 * was in flight wins over it. Offline entries are kept TOMBSTONE_MS (their ordering key rejects
 * a reversed `connected`) and then forgotten, so memory follows the live fleet.
 */
import type { Meta } from '../presence/types.js';
import type { PresenceIngest, SourcedKey } from '../presence/ingest.js';
import type { Clock } from '../time/clock.js';
import type { Scheduler, TimerHandle } from '../time/scheduler.js';
import { KeyedTimers } from './keyed-timers.js';
import {
  type DecideCtx,
  type Decision,
  type Entry,
  type SessionEffect,
  type Verdict,
  decideChecked,
  decideConnected,
  decideDisconnected,
  decideEnded,
  decideListed,
  decideTimer,
  decideUnlisted,
} from './sessions.js';
import type { ClientEvent, SnapshotSession } from './types.js';

export const TOMBSTONE_MS = 10 * 60_000;

export interface SessionBookDeps {
  /** The presence key of a client id (host, transport and source are the gateway's). */
  key(id: string): SourcedKey;
  ingest: PresenceIngest;
  clock: Clock;
  scheduler: Scheduler;
  debounceMs: number;
  /** Whether the gateway's REST can tell if one client is online. */
  checkable(): boolean;
  /** Ask it; the answer comes back through checked(). */
  check(id: string): void;
}

export class SessionBook {
  private readonly entries = new Map<string, Entry>();
  private readonly timers: KeyedTimers<string>;
  private seq = 0;
  private online = 0;
  private sweepTimer: TimerHandle | null = null;

  constructor(private readonly deps: SessionBookDeps) {
    this.timers = new KeyedTimers(deps.scheduler);
    this.armSweep();
  }

  private ctx(): DecideCtx {
    return { seq: ++this.seq, now: this.deps.clock.now(), debounceMs: this.deps.debounceMs, checkable: this.deps.checkable() };
  }

  /** A client event; returns what it did. */
  event(e: ClientEvent): Verdict {
    const prev = this.entries.get(e.id) ?? null;
    const d = e.type === 'connected' ? decideConnected(e, prev, this.ctx()) : decideDisconnected(e, prev, this.ctx());
    return this.apply(e.id, prev, d);
  }

  /** The sequence number a snapshot requested now will be compared against. */
  mark(): number {
    return this.seq;
  }

  /** A full snapshot of the gateway's online sessions, requested at `snapSeq`. */
  snapshot(list: readonly SnapshotSession[], snapSeq: number): { listed: number; gone: number } {
    const seen = new Set<string>();
    let gone = 0;
    for (const s of list) {
      seen.add(s.id);
      const prev = this.entries.get(s.id) ?? null;
      this.apply(s.id, prev, decideListed(s, prev, snapSeq, this.ctx()));
    }
    for (const [id, prev] of [...this.entries]) {
      if (seen.has(id) || !prev.online) continue;
      if (this.apply(id, prev, decideUnlisted(id, prev, snapSeq, this.ctx())) === 'applied') gone++;
    }
    return { listed: list.length, gone };
  }

  /** The gateway's REST answered a check (null: it failed). */
  checked(id: string, answer: boolean | null): Verdict {
    const prev = this.entries.get(id) ?? null;
    return this.apply(id, prev, decideChecked(id, prev, answer, this.ctx()));
  }

  /** Every online row (of one node, or all) goes offline with gateway_down; returns how many. */
  down(node: string | null): number {
    let n = 0;
    for (const [id, prev] of [...this.entries]) {
      if (!prev.online || (node !== null && prev.node !== node)) continue;
      this.apply(id, prev, decideEnded(id, prev, 'gateway_down', this.ctx()));
      n++;
    }
    return n;
  }

  /** Vigil kicked the client through the gateway's API: the row goes offline now, reason kicked. */
  kicked(id: string): void {
    const prev = this.entries.get(id);
    if (prev) this.apply(id, prev, decideEnded(id, prev, 'kicked', this.ctx()));
  }

  /** Online clients as this gateway last told. */
  onlineCount(): number {
    return this.online;
  }

  /** Nodes that hold at least one online session. */
  nodes(): Set<string> {
    const out = new Set<string>();
    for (const e of this.entries.values()) if (e.online && e.node !== null) out.add(e.node);
    return out;
  }

  stop(): void {
    this.timers.cancelAll();
    this.sweepTimer?.cancel();
    this.sweepTimer = null;
  }

  private apply(id: string, prev: Entry | null, d: Decision): Verdict {
    if (d.entry) this.entries.set(id, d.entry);
    else this.entries.delete(id);
    this.online += (d.entry?.online ? 1 : 0) - (prev?.online ? 1 : 0);
    for (const fx of d.effects) this.run(fx);
    return d.verdict;
  }

  private run(fx: SessionEffect): void {
    const { ingest } = this.deps;
    switch (fx.type) {
      case 'online': {
        const now = this.deps.clock.now();
        const o = { key: this.deps.key(fx.id), connectedAt: fx.connectedAt ?? now, at: now, renew: fx.renew, meta: fx.meta };
        ingest.ingestOnline(fx.availability ? { ...o, availability: fx.availability } : o);
        return;
      }
      case 'offline':
        return ingest.ingestOffline(this.deps.key(fx.id), fx.reason, withoutEmpty(fx.meta));
      case 'arm':
        return this.timers.arm(fx.id, fx.delayMs, () => {
          const prev = this.entries.get(fx.id) ?? null;
          this.apply(fx.id, prev, decideTimer(fx.id, prev, this.ctx()));
        });
      case 'disarm':
        return this.timers.cancel(fx.id);
      case 'check':
        return this.deps.check(fx.id);
    }
  }

  private armSweep(): void {
    this.sweepTimer = this.deps.scheduler.setTimer(60_000, () => {
      const cutoff = this.deps.clock.now() - TOMBSTONE_MS;
      for (const [id, e] of this.entries) if (!e.online && e.changedAt < cutoff) this.entries.delete(id);
      this.armSweep();
    });
  }
}

const withoutEmpty = (m: Meta): Meta | undefined => (Object.keys(m).length === 0 ? undefined : m);
