/**
 * This Vigil process as a cluster node: composes the Redis link, membership (epoch, lease,
 * sweeps, self-fencing), the presence writer, the mirror and its feed reader, and the command
 * channel. Built synchronously by the composition root (app.ts) so the presence table exists
 * before the protocol services; `start()` connects, joins and takes the snapshot BEFORE the
 * listeners open, so no connection is accepted by a node that is not a member.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import type { Metrics } from '../metrics.js';
import type { EndpointKey, LivenessRegistry } from '../liveness/types.js';
import type { PresenceView } from '../presence/types.js';
import type { Store } from '../store/types.js';
import type { Clock } from '../time/clock.js';
import type { Scheduler, TimerHandle } from '../time/scheduler.js';
import { CommandChannel } from './commands.js';
import { FeedReader, type StreamEntry } from './feed-reader.js';
import { K } from './keys.js';
import { Membership } from './membership.js';
import { Mirror } from './mirror.js';
import { type ClusterPresence, createClusterPresence } from './presence.js';
import { type RedisLink, connectRedis } from './redis.js';
import { Replica, type RosterListener } from './replica.js';
import { GC } from './scripts.js';
import { PresenceWriter } from './writer.js';

export interface ClusterDeps {
  config: Config;
  metrics: Metrics;
  /** This node's own store: its users and rosters seed an empty cluster (replica.ts). */
  store: Store;
  clock: Clock;
  scheduler: Scheduler;
  logger: Logger;
  liveness: LivenessRegistry;
  /** Fault injection for tests: wraps every Redis connection this node opens (partitions). */
  wrapLink?: (link: RedisLink) => RedisLink;
}

export interface NodeInfo {
  node: string;
  epoch: number;
  lease_expires_at: number;
  endpoints: number;
  version: string;
  http: string;
  started_at: number;
  self: boolean;
}

const VERSION = (() => {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();

type ClusterEvent = 'stale_write' | 'taken_over' | 'swept' | 'fenced' | 'recovered' | 'forwarded' | 'stanza';

const GC_EVERY_MS = 30_000;
/** How long a cluster-wide settings change or GET /v1/cluster waits for Redis before answering 503. */
const PUBLISH_TIMEOUT_MS = 3_000;

export class ClusterNode {
  readonly nodeId: string;
  readonly leaseMs: number;
  readonly mirror: Mirror;
  readonly presence: ClusterPresence;
  /** Users and rosters: Redis, replicated in memory on every node. */
  readonly replica: Replica;
  private link: RedisLink | null = null;
  private reader: FeedReader | null = null;
  private writerRef: PresenceWriter | null = null;
  private membershipRef: Membership | null = null;
  private commandsRef: CommandChannel | null = null;
  private gcTimer: TimerHandle | null = null;
  private lastErrorLog = 0;
  private readonly events;
  private readonly stanzaHandlers: ((to: string, el: unknown) => void)[] = [];
  private readonly hostSettingsHandlers: ((host: string, patch: Record<string, unknown>) => void)[] = [];
  http = '';

  constructor(private readonly d: ClusterDeps) {
    const c = d.config.cluster!;
    this.nodeId = c.node_id ?? `${hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 40)}-${process.pid}`;
    this.leaseMs = c.lease_ms;
    const p = d.config.presence;
    this.mirror = new Mirror(p.feed_size, p.offline_ttl * 1000, p.max_offline);
    this.replica = new Replica(this.nodeId, d.logger);
    this.events = d.metrics.counter('vigil_cluster_events_total', 'Cluster events: stale_write (a late write of a taken-over or swept connection, dropped), taken_over (a local connection closed for a newer one on another node), swept (endpoints of dead nodes set offline by this node), fenced, recovered, forwarded, stanza.', ['event'] as const);
    this.presence = createClusterPresence(this.mirror, () => this.writer, () => this.mirror.sweep(d.clock.now()), () => undefined);
  }

  get writer(): PresenceWriter {
    if (!this.writerRef) throw new Error('cluster node not started');
    return this.writerRef;
  }

  get membership(): Membership {
    if (!this.membershipRef) throw new Error('cluster node not started');
    return this.membershipRef;
  }

  get commands(): CommandChannel {
    if (!this.commandsRef) throw new Error('cluster node not started');
    return this.commandsRef;
  }

  /** vigil_cluster_events_total{event}: rare cluster events, counted (stale writes, sweeps, fences, ...). */
  private count(event: ClusterEvent, n = 1): void {
    if (n > 0) this.events.inc({ event }, n);
  }

  private onRedisError(err: Error): void {
    const now = Date.now();
    if (now - this.lastErrorLog < 5_000) return;
    this.lastErrorLog = now;
    this.d.logger.warn({ event: 'cluster_redis_error', err: err.message }, 'Redis connection error');
  }

  async start(): Promise<void> {
    const { config, clock, scheduler, logger, liveness } = this.d;
    const r = config.cluster!.redis;
    const raw = await connectRedis({ url: r.url, nodes: r.nodes, password: r.password, tls: r.tls, onError: (e) => this.onRedisError(e) });
    const link = (this.link = this.d.wrapLink ? this.d.wrapLink(raw) : raw);
    const feedSize = config.presence.feed_size;
    const writer = (this.writerRef = new PresenceWriter({
      link,
      liveness,
      clock,
      nodeId: this.nodeId,
      feedSize,
      logger,
      figures: (t, h, id) => this.presence.figures(t, h, id),
      onFenced: () => this.membership.verify(),
      count: (event) => this.count(event),
    }));
    this.membershipRef = new Membership({
      link,
      nodeId: this.nodeId,
      leaseMs: this.leaseMs,
      version: VERSION,
      http: () => this.http,
      clock,
      scheduler,
      logger,
      feedSize,
      onFenced: () => writer.fence(),
      count: (event, n) => this.count(event, n),
      onEpoch: (epoch) => writer.resume(epoch),
      onRecovered: () => writer.reassert(),
    });
    this.commandsRef = new CommandChannel({
      link,
      nodeId: this.nodeId,
      liveness,
      clock,
      scheduler,
      logger,
      count: (event) => this.count(event),
      generationOf: (key) => Number(this.mirror.row(key.host, key.transport, key.id)?.f.g ?? 0),
    });
    for (const h of this.stanzaHandlers) this.commandsRef.onStanza((to, el) => h(to, el));
    this.mirror.onEntry((seq, kind, row) => writer.onEntry(seq, kind, row));
    this.reader = new FeedReader({
      link: await link.duplicate(),
      mirror: this.mirror,
      inboxKey: K.inbox(this.nodeId),
      logger,
      onInbox: (entries) => this.commands.handle(entries),
      onControl: (entries) => this.onControl(entries),
      now: () => clock.now(),
    });
    await this.reader.start();
    await this.membership.join();
    await this.adoptHostSettings();
    await this.replica.start(link, this.d.store);
    this.armGc();
  }

  /**
   * Cluster-wide host settings: a PATCH on any node is stored in `{vigil}:hostcfg` (merged) and
   * announced on the control stream; every node applies it. Returns once Redis has both (throws
   * when Redis cannot be reached: the caller answers 503 and changes nothing).
   */
  publishHostSettings(host: string, patch: Record<string, unknown>): Promise<void> {
    return this.withinPublishTimeout(this.writeHostSettings(host, patch));
  }

  private async writeHostSettings(host: string, patch: Record<string, unknown>): Promise<void> {
    const link = this.link;
    if (!link) throw new Error('cluster node not started');
    const had = (await link.send(K.hostcfg, ['HGET', K.hostcfg, host])) as string | null;
    const merged = { ...(had ? (JSON.parse(had) as Record<string, unknown>) : {}), ...patch };
    await link.send(K.hostcfg, ['HSET', K.hostcfg, host, JSON.stringify(merged)]);
    await link.send(K.ctl, ['XADD', K.ctl, 'MAXLEN', '~', '1000', '*', 'from', this.nodeId, 'host', host, 'patch', JSON.stringify(patch)]);
  }

  /** At join: the settings other nodes changed at runtime apply here too (over the file's). */
  private async adoptHostSettings(): Promise<void> {
    const flat = (await this.link!.send(K.hostcfg, ['HGETALL', K.hostcfg])) as string[];
    for (let i = 0; i + 1 < flat.length; i += 2) this.applyHostPatch(flat[i]!, flat[i + 1]!);
  }

  /**
   * This node's store with users and rosters taken from the cluster (the rest stays local: MQTT
   * sessions and retained messages are issue 16's).
   */
  storeOver(store: Store): Store {
    return {
      kind: store.kind,
      users: this.replica.users,
      rosters: this.replica.rosters,
      retained: store.retained,
      hostConfig: store.hostConfig,
      kv: store.kv,
      sessions: store.sessions,
      isOpen: () => store.isOpen(),
      close: () => store.close(),
    };
  }

  onRemoteRoster(l: RosterListener): void {
    this.replica.onRemoteRoster(l);
  }

  private onControl(entries: StreamEntry[]): void {
    this.replica.apply(entries.filter((e) => e.fields.includes('t')));
    for (const e of entries) {
      if (e.fields.includes('t')) continue;
      const f = new Map<string, string>();
      for (let i = 0; i + 1 < e.fields.length; i += 2) f.set(e.fields[i]!, e.fields[i + 1]!);
      if (f.get('from') === this.nodeId) continue; // applied when it was asked
      this.applyHostPatch(f.get('host') ?? '', f.get('patch') ?? '{}');
    }
  }

  private applyHostPatch(host: string, json: string): void {
    let patch: Record<string, unknown>;
    try {
      patch = JSON.parse(json) as Record<string, unknown>;
    } catch {
      return;
    }
    for (const h of this.hostSettingsHandlers) h(host, patch);
  }

  /** Settings changes made by other nodes (and, at join, what Redis holds): the host settings seam listens. */
  onHostSettings(handler: (host: string, patch: Record<string, unknown>) => void): void {
    this.hostSettingsHandlers.push(handler);
  }

  get logger(): Logger {
    return this.d.logger;
  }

  private armGc(): void {
    this.gcTimer = this.d.scheduler.setTimer(GC_EVERY_MS, () => {
      const p = this.d.config.presence;
      this.mirror.sweep(this.d.clock.now());
      this.link
        ?.script(GC, [K.eps], [String(this.d.clock.now() - p.offline_ttl * 1000), String(p.max_offline), '1000'])
        .catch((err: unknown) => this.d.logger.warn({ event: 'cluster_gc_failed', err: String(err) }, 'presence GC failed'))
        .finally(() => this.armGc());
    });
  }

  /** Which node holds an endpoint now (from the mirror), or null when it is not online. */
  ownerOf(key: EndpointKey): string | null {
    const r = this.mirror.row(key.host, key.transport, key.id);
    return r && r.online ? r.node : null;
  }

  /** Nodes of the cluster (GET /v1/cluster), read from Redis; rejects when Redis does not answer in 3 s. */
  nodes(): Promise<NodeInfo[]> {
    return this.withinPublishTimeout(this.readNodes());
  }

  private async withinPublishTimeout<T>(p: Promise<T>): Promise<T> {
    let timer: TimerHandle | null = null;
    const late = new Promise<never>((_, reject) => {
      timer = this.d.scheduler.setTimer(PUBLISH_TIMEOUT_MS, () => reject(new Error('Redis did not answer')));
    });
    try {
      return await Promise.race([p, late]);
    } finally {
      (timer as TimerHandle | null)?.cancel();
    }
  }

  private async readNodes(): Promise<NodeInfo[]> {
    const link = this.link;
    if (!link) return [];
    const flat = (await link.send(K.nodes, ['HGETALL', K.nodes])) as string[];
    const out: NodeInfo[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const node = flat[i]!;
      const epoch = Number(flat[i + 1]);
      const [lease, info, held] = await Promise.all([
        link.send(K.lease, ['ZSCORE', K.lease, node]) as Promise<string | null>,
        link.send(K.info(node), ['HGETALL', K.info(node)]) as Promise<string[]>,
        link.send(K.own(node, epoch), ['SCARD', K.own(node, epoch)]) as Promise<number>,
      ]);
      const m = new Map<string, string>();
      for (let j = 0; j + 1 < info.length; j += 2) m.set(info[j]!, info[j + 1]!);
      out.push({
        node,
        epoch,
        lease_expires_at: Number(lease ?? 0),
        endpoints: Number(held),
        version: m.get('version') ?? 'unknown',
        http: m.get('http') ?? '',
        started_at: Number(m.get('started_at') ?? 0),
        self: node === this.nodeId,
      });
    }
    return out.sort((a, b) => a.node.localeCompare(b.node));
  }

  // ---- XMPP across nodes (src/xmpp/remote-router.ts ClusterStanzas) ----

  xmppRows(host: string, jid: string): PresenceView[] {
    const exact = this.mirror.get(host, 'xmpp', jid);
    if (exact) return [exact];
    return jid.includes('/') ? [] : this.mirror.listByPrefix(host, 'xmpp', jid);
  }

  sendStanza(node: string, to: string, el: unknown): void {
    this.replica.afterWrites(() => this.commands.sendStanza(node, to, el));
  }

  /** Registered before start() (the XMPP engine is built first); handed to the channel at start. */
  onStanza(handler: (to: string, el: unknown) => void): void {
    this.stanzaHandlers.push(handler);
  }

  /** Record the REST address once listening (GET /v1/cluster shows it). */
  async announceHttp(address: string): Promise<void> {
    this.http = address;
    await this.link?.send(K.info(this.nodeId), ['HSET', K.info(this.nodeId), 'http', address]);
  }

  /** Graceful stop, after the services closed their clients: flush, leave, disconnect. */
  async stop(): Promise<void> {
    this.gcTimer?.cancel();
    this.gcTimer = null;
    if (this.writerRef) await Promise.race([Promise.all([this.writerRef.idle(), this.replica.idle()]), new Promise((r) => setTimeout(r, 2_000))]);
    await this.membershipRef?.leave();
    this.writerRef?.stop();
    this.commandsRef?.stop();
    await this.reader?.stop();
    await this.link?.close();
  }
}
