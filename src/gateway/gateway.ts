/**
 * One watched gateway: its channels (MQTT watcher, webhook events handed in by the HTTP route,
 * REST snapshots and checks), its reachability (reach.ts), per-node heartbeats, and the session
 * book that writes its rows through PresenceIngest. The composition of those parts, no protocol
 * logic of its own. Rows of a node whose heartbeat stops for max(gateway_timeout, 2 x the node's
 * own heartbeat gap) go offline with gateway_down; so do all rows when the gateway is lost for
 * gateway_timeout. Snapshots never overlap: one asked while another runs runs after it.
 */
import type { Logger } from 'pino';
import { GATEWAY_CHANNELS, type GatewayKind } from '../config/schema/gateways.js';
import type { GatewayConfig } from '../config/types.js';
import type { PresenceIngest, SourcedKey } from '../presence/ingest.js';
import type { Clock } from '../time/clock.js';
import type { Scheduler } from '../time/scheduler.js';
import { type GatewayApi, gatewayApi } from './api/clients.js';
import type { GatewayCounters } from './gateway-metrics.js';
import { KeyedTimers } from './keyed-timers.js';
import { watchSpec } from './kinds/watch.js';
import { type ReachEffect, type ReachInput, type ReachState, initialReach, stepReach } from './reach.js';
import { SessionBook } from './session-book.js';
import type { Verdict } from './sessions.js';
import type { ClientEvent } from './types.js';
import { openWatcher, type Watcher } from './watcher/open.js';
import type { WatcherDeps } from './watcher/watcher.js';

export interface GatewayDeps {
  name: string;
  config: GatewayConfig;
  ingest: PresenceIngest;
  clock: Clock;
  scheduler: Scheduler;
  logger: Logger;
  counters: GatewayCounters;
  /** The REST client (default: by kind from config.api); tests pass their own. */
  api?: GatewayApi | null;
  /** How the watcher reaches the gateway (default TCP/TLS to mqtt.url); tests hand a duplex. */
  openTransport?: WatcherDeps['open'];
}

export interface GatewayStatus {
  name: string;
  kind: GatewayKind;
  host: string;
  state: ReachState['state'];
  since: number;
  online: number;
  last_event_at: number | null;
  /** ms between the gateway's own timestamp of the last event that had one and its receipt. */
  lag_ms: number | null;
  channels: {
    watcher: { state: string; last_lost: string | null; rtt_ms: number | null; refused: string[] } | null;
    webhook: boolean;
    api: { state: string; last_error: string | null; last_snapshot_at: number | null } | null;
  };
  nodes: string[];
  counts: Record<Verdict | 'rejected' | 'snapshots', number>;
}

export type KickResult = { kind: 'kicked' } | { kind: 'not_found' } | { kind: 'unsupported'; why: string } | { kind: 'failed'; why: string };

export class Gateway {
  readonly kind: GatewayKind;
  private readonly cfg: GatewayConfig;
  private readonly book: SessionBook;
  private readonly api: GatewayApi | null;
  private readonly watcher: Watcher | null;
  private readonly timeoutMs: number;
  private reach: ReachState;
  private readonly reachTimer: KeyedTimers<'reach' | 'poll'>;
  private readonly nodeTimers: KeyedTimers<string>;
  /** Heartbeat nodes: last heard (wall ms) and the last gap between two heartbeats. */
  private readonly nodes = new Map<string, { at: number; gap: number }>();
  private snapshotting: Promise<void> | null = null;
  private snapshotAgain = false;
  private lastEventAt: number | null = null;
  private lagMs: number | null = null;
  private lastLost: string | null = null;
  private refused: string[] = [];
  private apiError: string | null = null;
  private lastSnapshotAt: number | null = null;
  private readonly counts = { applied: 0, duplicate: 0, stale: 0, rejected: 0, snapshots: 0 };
  private stopped = false;

  constructor(private readonly deps: GatewayDeps) {
    this.cfg = deps.config;
    this.kind = deps.config.kind as GatewayKind;
    this.timeoutMs = this.cfg.gateway_timeout * 1000;
    this.api = deps.api !== undefined ? deps.api : gatewayApi(this.kind, this.cfg.api, () => deps.clock.now());
    const transport = this.kind === 'ejabberd' ? 'xmpp' : 'mqtt';
    const host = this.cfg.host ?? '';
    this.book = new SessionBook({
      key: (id): SourcedKey => ({ host, transport, source: deps.name, id }),
      ingest: deps.ingest,
      clock: deps.clock,
      scheduler: deps.scheduler,
      debounceMs: this.cfg.offline_debounce_ms,
      checkable: () => this.api?.isOnline !== undefined,
      check: (id) => this.check(id),
    });
    this.reachTimer = new KeyedTimers(deps.scheduler);
    this.nodeTimers = new KeyedTimers(deps.scheduler);
    const spec = watchSpec(this.kind);
    const hooks: Pick<WatcherDeps, 'onUp' | 'onLost' | 'onMessage'> = {
      onUp: (refused) => this.watcherUp(refused),
      onLost: (why) => this.watcherLost(why),
      onMessage: (topic, payload) => {
        const read = spec.read(topic, payload);
        if (read && 'event' in read) this.ingest([read.event]);
        else if (read) this.heard(read.heartbeat);
      },
    };
    this.watcher = openWatcher(deps.name, this.cfg.mqtt, spec.filters, deps.clock, deps.scheduler, hooks, deps.openTransport);
    const polled = this.api !== null && this.cfg.poll_interval > 0;
    const init = initialReach({ watcher: this.watcher !== null, api: polled }, this.timeoutMs, deps.clock.now());
    this.reach = init.state;
    this.runReach(init.effects);
  }

  get name(): string {
    return this.deps.name;
  }

  get webhookSecret(): string | null {
    return this.cfg.webhook.secret;
  }

  get webhookMaxBytes(): number {
    return this.cfg.webhook.max_body_bytes;
  }

  start(): void {
    this.watcher?.start();
    // The first snapshot: from the poll, else once the watcher is up (reach asks), else now.
    if (this.api && this.cfg.poll_interval > 0) this.poll();
    else if (this.api && !this.watcher) void this.snapshot();
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.stop();
    this.reachTimer.cancelAll();
    this.nodeTimers.cancelAll();
    this.book.stop();
  }

  /** Events from a channel (watcher message, webhook body); returns each one's verdict. */
  ingest(events: readonly ClientEvent[]): Verdict[] {
    const now = this.deps.clock.now();
    const out = events.map((e) => {
      const v = this.book.event(e);
      this.counts[v]++;
      this.deps.counters.event(this.name, this.kind, e.type, v);
      if (e.sentAt !== null) this.lagMs = Math.max(0, now - e.sentAt);
      return v;
    });
    if (events.length > 0) this.lastEventAt = now;
    this.gauges();
    return out;
  }

  /** A webhook call refused before it reached the book. */
  rejected(why: string): void {
    this.counts.rejected++;
    this.deps.counters.rejected(this.name, why);
  }

  /** Kick a client through the gateway's API, where the kind has one and `api` is configured. */
  async kick(id: string): Promise<KickResult> {
    const why = this.kickUnsupported();
    if (why !== null || !this.api?.kick) return { kind: 'unsupported', why: why ?? 'no kick' };
    try {
      const found = await this.api.kick(id);
      if (found) this.book.kicked(id);
      this.gauges();
      return found ? { kind: 'kicked' } : { kind: 'not_found' };
    } catch (err) {
      return { kind: 'failed', why: (err as Error).message };
    }
  }

  /** Why a kick cannot work now (null when it can). */
  kickUnsupported(): string | null {
    if (!GATEWAY_CHANNELS[this.kind].includes('api') || (this.api && !this.api.kick)) return `${this.kind} has no API to disconnect a client`;
    return this.api ? null : `gateway ${this.name} has no api configured`;
  }

  status(): GatewayStatus {
    const w = this.watcher;
    return {
      name: this.name,
      kind: this.kind,
      host: this.cfg.host ?? '',
      state: this.reach.state,
      since: this.reach.since,
      online: this.book.onlineCount(),
      last_event_at: this.lastEventAt,
      lag_ms: this.lagMs,
      channels: {
        watcher: w ? { state: w.state, last_lost: this.lastLost, rtt_ms: w.lastRttMs, refused: this.refused } : null,
        webhook: this.cfg.webhook.secret !== null,
        api: this.api ? { state: this.reach.channels.api === 'off' ? 'on_demand' : this.reach.channels.api, last_error: this.apiError, last_snapshot_at: this.lastSnapshotAt } : null,
      },
      nodes: [...this.nodes.keys()].sort(),
      counts: { ...this.counts },
    };
  }

  private gauges(): void {
    this.deps.counters.gauges(this.name, this.reach.state === 'up', this.book.onlineCount());
  }

  private step(input: ReachInput): void {
    const before = this.reach.state;
    const { state, effects } = stepReach(this.reach, input, this.deps.clock.now(), this.timeoutMs);
    this.reach = state;
    if (state.state !== before) this.deps.logger.info({ event: `gateway_${state.state}`, gateway: this.name, kind: this.kind, was: before }, `gateway ${this.name} ${state.state}`);
    this.runReach(effects);
    this.gauges();
  }

  private runReach(effects: ReachEffect[]): void {
    for (const fx of effects) {
      switch (fx.type) {
        case 'arm':
          this.reachTimer.arm('reach', fx.delayMs, () => this.step({ type: 'timeout' }));
          break;
        case 'disarm':
          this.reachTimer.cancel('reach');
          break;
        case 'down':
          this.deps.counters.down(this.name, 'gateway', this.book.down(null));
          break;
        case 'snapshot':
          if (fx.channel === 'watcher' && this.api) void this.snapshot();
          break;
      }
    }
  }

  private watcherUp(refused: string[]): void {
    this.refused = refused;
    if (refused.length > 0) this.deps.logger.warn({ event: 'gateway_subscription_refused', gateway: this.name, filters: refused }, 'the gateway refused a subscription (ACL?)');
    for (const node of this.nodes.keys()) this.armNode(node);
    this.step({ type: 'up', channel: 'watcher' });
  }

  private watcherLost(why: string): void {
    this.lastLost = why;
    this.nodeTimers.cancelAll(); // the gateway-wide timeout covers them while the watcher is away
    this.deps.counters.lost(this.name, 'watcher', why);
    this.deps.logger.warn({ event: 'gateway_watcher_lost', gateway: this.name, why }, `watcher lost gateway ${this.name}: ${why}`);
    this.step({ type: 'lost', channel: 'watcher' });
  }

  /** A node's heartbeat: re-arm its timer. */
  private heard(node: string): void {
    const now = this.deps.clock.now();
    const prev = this.nodes.get(node);
    this.nodes.set(node, { at: now, gap: prev ? now - prev.at : 0 });
    this.armNode(node);
  }

  private armNode(node: string): void {
    const n = this.nodes.get(node);
    if (!n) return;
    const delay = Math.max(this.timeoutMs, 2 * n.gap);
    this.nodeTimers.arm(node, delay, () => {
      this.nodes.delete(node);
      const rows = this.book.down(node);
      this.deps.counters.down(this.name, 'node', rows);
      this.deps.logger.warn({ event: 'gateway_node_down', gateway: this.name, node, rows, silent_ms: this.deps.clock.now() - n.at }, `gateway ${this.name} node ${node} silent`);
      this.gauges();
    });
  }

  private poll(): void {
    if (this.stopped) return;
    void this.snapshot().finally(() => {
      if (!this.stopped) this.reachTimer.arm('poll', this.cfg.poll_interval * 1000, () => this.poll());
    });
  }

  /** Read a snapshot and apply it; one at a time. */
  snapshot(): Promise<void> {
    if (!this.api || this.stopped) return Promise.resolve();
    if (this.snapshotting) {
      this.snapshotAgain = true;
      return this.snapshotting;
    }
    const api = this.api;
    const run = async (): Promise<void> => {
      do {
        this.snapshotAgain = false;
        const mark = this.book.mark();
        try {
          const list = await api.snapshot();
          if (this.stopped) return;
          const r = this.book.snapshot(list, mark);
          this.apiError = null;
          this.lastSnapshotAt = this.deps.clock.now();
          this.counts.snapshots++;
          this.deps.counters.snapshot(this.name, 'ok');
          this.deps.logger.debug({ event: 'gateway_snapshot', gateway: this.name, ...r }, 'gateway snapshot applied');
          this.step({ type: 'up', channel: 'api' });
        } catch (err) {
          if (this.stopped) return;
          this.apiError = (err as Error).message;
          this.deps.counters.snapshot(this.name, 'failed');
          this.deps.logger.warn({ event: 'gateway_snapshot_failed', gateway: this.name, why: this.apiError }, `snapshot of gateway ${this.name} failed`);
          if (this.reach.channels.api !== 'lost') this.deps.counters.lost(this.name, 'api', 'snapshot_failed');
          this.step({ type: 'lost', channel: 'api' });
        }
      } while (this.snapshotAgain && !this.stopped);
    };
    this.snapshotting = run().finally(() => {
      this.snapshotting = null;
      this.gauges();
    });
    return this.snapshotting;
  }

  private check(id: string): void {
    const api = this.api;
    if (!api?.isOnline) return void this.book.checked(id, null);
    api.isOnline(id).then(
      (online) => !this.stopped && this.book.checked(id, online),
      () => !this.stopped && this.book.checked(id, null),
    );
  }
}
