/**
 * The router of one host in cluster mode: this node's LocalRouter for its own connections, plus
 * the cluster's route table (route-table.ts) for everyone else.
 *
 *   subscribe / unsubscribe  the local trie; the first subscriber of a filter here adds this
 *                            node's route, the last one gone removes it (COMMIT `ra`/`rd`)
 *   publish(msg)             local delivery now, as on one node; then one `p` op in this node's
 *                            next batch naming the other nodes whose routes match (each gets the
 *                            message in its inbox: one XADD per node per batch) and the persistent
 *                            sessions whose routes match (the message is appended to each one's
 *                            queue stream, and the node holding it gets a notice)
 *
 * A node that receives a message from its inbox delivers it with its LocalRouter only (never
 * forwards it again). Order per publisher and topic holds: the ops of one node apply in the order
 * they were made, and each inbox is read in order. A publish of a will is guarded (a will record
 * must still be there, so it is published once) and delivered here only after its batch applied.
 */
import type { SubOptions } from '../../mqtt/channel-session.js';
import type { Delivery, Message } from '../../mqtt/message.js';
import type { LocalRouter, Router } from '../../mqtt/router.js';
import { parseShared } from '../../mqtt/shared-groups.js';
import type { Batcher } from './batcher.js';
import { deliveryParams, encodeMessage } from './codec.js';
import { sessionKey } from './keys.js';
import type { HostRoutes, SessionRoute } from './route-table.js';

export interface ClusterRouterDeps {
  host: string;
  nodeId: string;
  local: LocalRouter;
  routes: HostRoutes;
  batcher: Batcher;
  /** The host's queue rules for offline sessions (max_mqueue_len, mqueue_store_qos0). */
  queue(): { maxLen: number; storeQos0: boolean };
  /** Whether a client id has a persistent session held here (a QoS 2 publish is guarded by its write). */
  persistent(clientId: string): boolean;
  /** Messages appended to the queue of sessions held here: deliver them. */
  queued(clientId: string, d: Delivery, ref: string): void;
  /** Whether the broker's retained store marked `msg` (store 1, clear 2) before routing it. */
  retainNext(msg: Message): 1 | 2 | undefined;
}

/** What a publish op carries besides the message. */
export interface PublishExtras {
  /** Retained: 1 store, 2 clear. */
  retain?: 1 | 2;
  /** A will record that must still be there: [session key, connection, 'live' | 'due']. */
  will?: [string, string, 'live' | 'due'];
}

/**
 * The node route of a subscription: a shared one (`$share/{name}/{filter}`) routes by its bare
 * filter, so messages published on any node reach this node's members; this node's LocalRouter
 * then picks one of its own members. A group with members on several nodes gets one copy per such
 * node (not one for the whole cluster: docs/cluster.md).
 */
function routeFilter(filter: string): string {
  const shared = parseShared(filter);
  return shared !== null && shared !== 'invalid' ? shared.filter : filter;
}

export class ClusterRouter implements Router {
  /** Subscriptions held here (filter and client id), per node route (a route lives while one is left). */
  private readonly here = new Map<string, Set<string>>();
  private readonly scratch: SessionRoute[] = [];
  private readonly nodes = new Set<string>();
  private readonly nodeScratch: string[] = [];
  /** Messages forwarded to other nodes / queued for sessions (tests, metrics). */
  forwarded = 0;

  constructor(private readonly d: ClusterRouterDeps) {}

  get size(): number {
    return this.d.local.size;
  }

  subscribe(clientId: string, filter: string, opts: SubOptions): void {
    this.d.local.subscribe(clientId, filter, opts);
    const route = routeFilter(filter);
    let ids = this.here.get(route);
    if (!ids) this.here.set(route, (ids = new Set()));
    if (ids.size === 0) this.d.batcher.push({ o: 'ra', h: this.d.host, f: route });
    ids.add(`${filter}\u0000${clientId}`);
  }

  unsubscribe(clientId: string, filter: string): void {
    this.d.local.unsubscribe(clientId, filter);
    const route = routeFilter(filter);
    const ids = this.here.get(route);
    if (!ids?.delete(`${filter}\u0000${clientId}`) || ids.size > 0) return;
    this.here.delete(route);
    this.d.batcher.push({ o: 'rd', h: this.d.host, f: route });
  }

  /** A shared member's session ended: its unacknowledged deliveries go to another member of this node. */
  redeliver(from: string, ds: readonly Delivery[]): void {
    this.d.local.redeliver(from, ds);
  }

  publish(msg: Message): void {
    this.d.local.publish(msg);
    const retain = msg.retain ? this.d.retainNext(msg) : undefined;
    this.forward(msg, retain ? { retain } : {});
  }

  /** A message from another node's batch: this node's subscribers only. */
  deliverHere(msg: Message): void {
    this.d.local.publish(msg);
  }

  /**
   * The other nodes and the persistent sessions that need `msg`, in this node's next batch.
   * `onApplied(ok)`: the batch applied the op (false: a guard refused it, or the batch failed).
   * Returns whether an op was made.
   */
  forward(msg: Message, extras: PublishExtras, onApplied?: (ok: boolean) => void): boolean {
    const { routes, nodeId, host, batcher } = this.d;
    const nodes = this.nodes;
    nodes.clear();
    const found = routes.nodes.match(msg.topic, this.nodeScratch);
    for (const n of found) if (n !== nodeId) nodes.add(n);
    found.length = 0;
    const targets = this.sessionTargets(msg);
    if (nodes.size === 0 && targets.size === 0 && extras.retain === undefined && extras.will === undefined) {
      onApplied?.(true);
      return false;
    }
    this.forwarded++;
    const op: Record<string, unknown> = {
      o: 'p',
      b: batcher.blob(encodeMessage(msg)),
      h: host,
      n: [...nodes],
      s: [...targets].map(([clientId, d]) => [clientId, deliveryParams(d.qos, d.retain, d.subIds)]),
    };
    if (targets.size > 0) {
      const q = this.d.queue();
      op.z = q.storeQos0 ? 1 : 0;
      op.ml = q.maxLen;
    }
    if (extras.retain) {
      op.r = extras.retain;
      op.t = msg.topic;
    }
    if (extras.will) op.gw = extras.will;
    // Exactly once: a QoS 2 message is routed only if its publisher's awaiting-PUBREL id was written.
    if (msg.qos === 2 && msg.senderId !== '' && this.d.persistent(msg.senderId)) {
      const gs = batcher.lastSessionOp(sessionKey(host, msg.senderId));
      if (gs > 0) op.gs = gs;
    }
    batcher.push(op, (r) => {
      const ok = Array.isArray(r);
      if (ok) {
        const mine = (r[1] ?? []) as unknown[];
        for (let i = 0; i + 1 < mine.length; i += 2) {
          const clientId = String(mine[i]);
          const d = targets.get(clientId);
          if (d) this.d.queued(clientId, d, String(mine[i + 1]));
        }
      }
      onApplied?.(ok);
    });
    return true;
  }

  /** Persistent sessions matching `msg`, one delivery each (overlapping filters: highest QoS, every id [MQTT-3.3.4-3]). */
  private sessionTargets(msg: Message): Map<string, Delivery> {
    const per = new Map<string, Delivery>();
    const matches = this.d.routes.sessions.match(msg.topic, this.scratch);
    if (matches.length === 0) return per;
    for (const s of matches) {
      if (s.opts.nl && s.clientId === msg.senderId) continue; // No Local [MQTT-3.8.3-3]
      const qos = Math.min(msg.qos, s.opts.qos) as Delivery['qos'];
      const d = per.get(s.clientId);
      if (!d) per.set(s.clientId, { msg, qos, retain: s.opts.rap && msg.retain, subIds: s.opts.subId === null ? null : [s.opts.subId] });
      else {
        if (qos > d.qos) d.qos = qos;
        if (s.opts.rap && msg.retain) d.retain = true;
        if (s.opts.subId !== null) (d.subIds ??= []).push(s.opts.subId);
      }
    }
    matches.length = 0;
    return per;
  }
}
