/**
 * What the dashboard charts and lists that the presence table does not keep: per host, a sample
 * every `stepMs` of online counts by transport and the p50/p90/p99 round trip of the probes
 * answered during that step (RttSketch), for the last `keep` steps; and the last `maxDisconnects`
 * disconnects with their reasons, newest first.
 *
 * Fed by liveness events (probe_answered, offline), sampled by one scheduler timer for all hosts;
 * costs one sketch update per answered probe and O(hosts) per step, nothing per connection.
 */
import type { DisconnectReason, LivenessRegistry, Transport } from '../../liveness/types.js';
import type { PresenceTable } from '../../presence/types.js';
import type { Clock } from '../../time/clock.js';
import type { Scheduler, TimerHandle } from '../../time/scheduler.js';
import { RttSketch } from './rtt-sketch.js';

export interface HistoryPoint {
  at: number;
  online_xmpp: number;
  online_mqtt: number;
  /** Probes answered during the step. */
  probes: number;
  rtt_p50_ms: number | null;
  rtt_p90_ms: number | null;
  rtt_p99_ms: number | null;
}

export interface Disconnect {
  at: number;
  transport: Transport;
  id: string;
  reason: DisconnectReason;
}

export interface HistoryDeps {
  clock: Pick<Clock, 'now'>;
  scheduler: Scheduler;
  liveness: Pick<LivenessRegistry, 'subscribe' | 'hosts'>;
  presence: Pick<PresenceTable, 'count'>;
  /** Hosts of the config file, sampled even before anyone connects. */
  configHosts: () => string[];
}

export interface HistoryOptions {
  stepMs: number;
  keep: number;
  maxDisconnects: number;
}

export const DEFAULT_HISTORY: HistoryOptions = { stepMs: 10_000, keep: 180, maxDisconnects: 50 };

class HostHistory {
  readonly points: HistoryPoint[] = [];
  readonly rtt = new RttSketch();
  /** Oldest first; trimmed at the front. */
  readonly disconnects: Disconnect[] = [];
}

export class DashboardHistory {
  private readonly hosts = new Map<string, HostHistory>();
  private readonly unsubscribe: () => void;
  private timer: TimerHandle | null = null;

  constructor(
    private readonly deps: HistoryDeps,
    private readonly opts: HistoryOptions = DEFAULT_HISTORY,
  ) {
    this.unsubscribe = deps.liveness.subscribe((e) => {
      if (e.type === 'probe_answered') this.of(e.ref.host).rtt.add(e.rttMs);
      else if (e.type === 'offline') {
        const list = this.of(e.ref.host).disconnects;
        list.push({ at: e.at, transport: e.ref.transport, id: e.ref.id, reason: e.reason });
        if (list.length > opts.maxDisconnects) list.splice(0, list.length - opts.maxDisconnects);
      }
    });
    this.arm();
  }

  /** Samples of a host, oldest first, ending with the step in progress (at = now). */
  points(host: string): HistoryPoint[] {
    const h = this.hosts.get(host);
    return [...(h?.points ?? []), this.sample(host, h?.rtt ?? null, this.deps.clock.now())];
  }

  /** Last disconnects of a host, newest first. */
  disconnects(host: string): Disconnect[] {
    return [...(this.hosts.get(host)?.disconnects ?? [])].reverse();
  }

  get stepMs(): number {
    return this.opts.stepMs;
  }

  stop(): void {
    this.unsubscribe();
    this.timer?.cancel();
    this.timer = null;
  }

  private of(host: string): HostHistory {
    let h = this.hosts.get(host);
    if (!h) this.hosts.set(host, (h = new HostHistory()));
    return h;
  }

  private sample(host: string, rtt: RttSketch | null, at: number): HistoryPoint {
    return {
      at,
      online_xmpp: this.deps.presence.count(host, 'xmpp', 'online'),
      online_mqtt: this.deps.presence.count(host, 'mqtt', 'online'),
      probes: rtt?.size ?? 0,
      rtt_p50_ms: rtt?.quantile(0.5) ?? null,
      rtt_p90_ms: rtt?.quantile(0.9) ?? null,
      rtt_p99_ms: rtt?.quantile(0.99) ?? null,
    };
  }

  private arm(): void {
    this.timer = this.deps.scheduler.setTimer(this.opts.stepMs, () => {
      const at = this.deps.clock.now();
      for (const host of new Set([...this.deps.configHosts(), ...this.deps.liveness.hosts()])) {
        const h = this.of(host);
        h.points.push(this.sample(host, h.rtt, at));
        if (h.points.length > this.opts.keep) h.points.splice(0, h.points.length - this.opts.keep);
        h.rtt.clear();
      }
      this.arm();
    });
  }
}
