/**
 * MQTT across nodes (issue 16), composed: what cluster mode hands the MQTT broker in place of the
 * single-node parts (src/mqtt/seams.ts, broker-sessions.ts), and what it runs beside them.
 *
 *   seams()      per host: ClusterClientRegistry (claims sessions), ClusterRouter (route table,
 *                forwarding), ClusterRetained (one copy in Redis), ClusterWillScheduler (outbox)
 *   sessions()   ClusterSessions: the session core with a Redis writer
 *   batcher      every change of this node, one COMMIT per batch, the acknowledgement barrier
 *   routes       the route table and retained index, mirrored (route-table.ts)
 *   reader       this node's inbox and the route log (reader.ts)
 *   maintenance  session expiry, due wills, the MQTT part of sweeping dead nodes
 *
 * Built with the node (before the broker, which takes its seams), started by ClusterNode.start()
 * before the listeners open: the route table is loaded before the first client connects.
 */
import type { Logger } from 'pino';
import type { Config } from '../../config/types.js';
import { sessionLimits } from '../../mqtt-session/limits.js';
import type { SessionsFactory } from '../../mqtt/broker-sessions.js';
import type { SubOptions } from '../../mqtt/channel-session.js';
import type { BrokerClient } from '../../mqtt/connection-deps.js';
import type { Message } from '../../mqtt/message.js';
import { LocalRouter } from '../../mqtt/router.js';
import type { SeamFactory } from '../../mqtt/seams.js';
import type { Clock } from '../../time/clock.js';
import type { Scheduler } from '../../time/scheduler.js';
import type { RedisLink } from '../redis.js';
import { Batcher } from './batcher.js';
import { ClusterClientRegistry } from './client-registry.js';
import { decodeDelivery, decodeMessage } from './codec.js';
import { Maintenance } from './maintenance.js';
import { StreamReader, type InboxItem } from './reader.js';
import { ClusterRetained } from './retained.js';
import { RouteTable } from './route-table.js';
import { ClusterRouter } from './router.js';
import { ClusterSessions } from './sessions.js';
import { ClusterWillScheduler } from './wills.js';

export interface MqttClusterDeps {
  config: Config;
  clock: Clock;
  scheduler: Scheduler;
  logger: Logger;
  nodeId: string;
  /** A batch answered FENCED: membership looks again (fence, or recover). */
  onFenced(): void;
}

interface HostParts {
  router: ClusterRouter;
  clients: ClusterClientRegistry;
  wills: ClusterWillScheduler;
}

export class MqttCluster {
  readonly routes = new RouteTable();
  readonly batcher: Batcher;
  readonly maintenance: Maintenance;
  private linkRef: RedisLink | null = null;
  private reader: StreamReader | null = null;
  private sessionsRef: ClusterSessions | null = null;
  private readonly hosts = new Map<string, HostParts>();
  /** Messages each router is to store as retained on its next publish (ClusterRetained.put). */
  private readonly retainNext = new WeakMap<Message, 1 | 2>();

  constructor(private readonly d: MqttClusterDeps) {
    this.batcher = new Batcher({ link: () => this.link, nodeId: d.nodeId, logger: d.logger, onFenced: () => d.onFenced() });
    this.maintenance = new Maintenance({
      link: () => this.link,
      scheduler: d.scheduler,
      logger: d.logger,
      nowMs: () => d.clock.now(),
      fire: (host, wills) => this.hosts.get(host)?.wills.fire(wills),
    });
  }

  private get link(): RedisLink {
    if (!this.linkRef) throw new Error('cluster node not started');
    return this.linkRef;
  }

  get sessions(): ClusterSessions {
    if (!this.sessionsRef) throw new Error('MQTT broker not built');
    return this.sessionsRef;
  }

  /** Reads of this node's streams that returned entries (tests: a node with no route reads nothing). */
  get reads(): number {
    return this.reader?.reads ?? 0;
  }

  /** The broker's session service (built once, by the broker, with its hooks). */
  sessionsFactory(): SessionsFactory {
    const d = this.d;
    return (hooks) => {
      this.sessionsRef = new ClusterSessions({
        config: d.config,
        clock: d.clock,
        scheduler: d.scheduler,
        logger: d.logger,
        batcher: this.batcher,
        hooks,
        subscribe: (host, clientId, filter, opts: SubOptions) => this.hosts.get(host)?.router.subscribe(clientId, filter, opts),
        holder: (host, clientId): BrokerClient | undefined => this.hosts.get(host)?.clients.local.get(clientId),
      });
      return { sessions: this.sessionsRef, restore: () => undefined };
    };
  }

  /** The per host parts of the broker. */
  seams(): SeamFactory {
    const d = this.d;
    return (ctx) => {
      const { host } = ctx;
      const sessions = this.sessions;
      const clients = new ClusterClientRegistry(host, ctx.rate, sessions);
      const nowMs = () => d.clock.now();
      const local = new LocalRouter({ host, online: clients.local, sessions, nowMs, strategy: () => d.config.hosts[host]!.mqtt.shared_subscription_strategy, sharedDelivered: ctx.sharedDelivered });
      const routes = this.routes.host(host);
      // The queue rules of a publish, computed again only when the host's settings object changes
      // (a runtime PATCH replaces it): sessionLimits per PUBLISH was a fifth of a node's CPU.
      let seen: unknown = null;
      let rules = { maxLen: 0, storeQos0: false };
      const limits = () => {
        const mq = d.config.hosts[host]!.mqtt;
        if (mq !== seen) {
          const l = sessionLimits(mq);
          [seen, rules] = [mq, { maxLen: l.maxMqueueLen, storeQos0: l.mqueueStoreQos0 }];
        }
        return rules;
      };
      const router = new ClusterRouter({
        host,
        nodeId: d.nodeId,
        local,
        routes,
        batcher: this.batcher,
        queue: limits,
        persistent: (clientId) => sessions.service.handle(host, clientId)?.session.persistent ?? false,
        queued: (clientId, dl, ref) => sessions.deliverQueued(host, clientId, dl, ref),
        retainNext: (msg) => {
          const how = this.retainNext.get(msg);
          this.retainNext.delete(msg);
          return how;
        },
      });
      const wills = new ClusterWillScheduler({
        host,
        nodeId: d.nodeId,
        policy: ctx.policy,
        batcher: this.batcher,
        router,
        nowMs,
        aclDenied: ctx.aclDenied,
        wake: (inMs) => this.maintenance.wake(inMs),
      });
      this.hosts.set(host, { router, clients, wills });
      const retained = new ClusterRetained({ host, index: routes.retained, link: () => this.link, retainNext: (msg, how) => this.retainNext.set(msg, how) });
      return { clients, router, retained, wills };
    };
  }

  /** Connect the data plane: the route table loaded, this node's streams read. */
  async start(link: RedisLink, readerLink: RedisLink): Promise<void> {
    this.linkRef = link;
    const from = await this.routes.load(link, Object.keys(this.d.config.hosts));
    this.reader = new StreamReader({
      link: readerLink,
      nodeId: this.d.nodeId,
      logger: this.d.logger,
      onLog: (kind, host, k, f) => this.routes.apply(kind, host, k, f),
      onInbox: (items) => this.inbox(items),
    });
    await this.reader.start(from);
    this.maintenance.start();
  }

  /** Joined with `epoch`: batches flow. */
  resume(epoch: number): void {
    this.batcher.resume(epoch);
  }

  /** Fenced: nothing more is written under the old epoch. */
  fence(): void {
    this.batcher.fence();
  }

  /** The MQTT part of sweeping a dead incarnation. */
  sweep(node: string, epoch: string): Promise<void> {
    return this.maintenance.sweep(node, epoch);
  }

  private inbox(items: InboxItem[]): void {
    for (const it of items) {
      const h = this.hosts.get(it.host);
      if (!h) continue;
      if (it.kind === 'p') {
        h.router.deliverHere(decodeMessage(it.value));
        continue;
      }
      const a = it.value.indexOf(0);
      const b = it.value.indexOf(0, a + 1);
      if (a < 0 || b < 0) continue;
      this.sessions.deliverQueued(it.host, it.value.toString('utf8', 0, a), decodeDelivery(it.value, b + 1), it.value.toString('latin1', a + 1, b));
    }
  }

  /** Graceful stop (after the broker closed its clients): what waits is written, then the reads stop. */
  async stop(): Promise<void> {
    this.maintenance.stop();
    await Promise.race([this.batcher.idle(), new Promise((r) => setTimeout(r, 2_000))]);
    await this.reader?.stop();
  }
}
