/**
 * The router of one host (EMQX's emqx_router + emqx_broker dispatch): the subscription trie
 * (trie.ts) and the delivery of a published message to every matching subscription.
 *
 *   publish(msg) -> trie.match(topic) -> one Delivery per client:
 *     - No Local: never back to the publisher [MQTT-3.8.3-3 v5];
 *     - QoS min(message, granted); Retain As Published, else RETAIN 0 [MQTT-3.3.1-12/13 v5];
 *     - overlapping subscriptions of one client: one delivery at the highest QoS carrying every
 *       Subscription Identifier [MQTT-3.3.4-3], [MQTT-3.3.5-1];
 *     - QoS 0 to a client connected here: straight to its connection, encoded once per routing
 *       pass for all of them (EncodeCache); everything else goes to its session (window, queue,
 *       offline queue, or nowhere when it has none).
 *
 *   - shared subscriptions (`$share/{name}/{filter}`, MQTT 5.0 §4.8.2; shared-groups.ts): one
 *     delivery per matching group, to the member the host's strategy picks (shared-strategy.ts);
 *     the delivery names its group (`share`) so that a member's session that ends hands its
 *     unacknowledged messages to another member (`redeliver`).
 *
 * Synchronous, and the QoS 0 path to local subscribers allocates only the encode cache and the
 * deliveries (one match: no map): a cluster router (issue 16) wraps this one, forwarding to the
 * nodes its route table names, and keeps local delivery here. Retained messages are not the
 * router's (retained.ts): the broker stores them before it routes.
 */
import type { SubOptions } from './channel-session.js';
import { EncodeCache } from './deliver.js';
import type { Delivery, Message } from './message.js';
import { parseShared, SharedGroups, type SharedGroup } from './shared-groups.js';
import { pickMember, type SharedStrategy } from './shared-strategy.js';
import { SubscriptionTrie } from './trie.js';

export interface Router {
  /** Add or replace `clientId`'s subscription to `filter` [MQTT-3.8.4-3]. */
  subscribe(clientId: string, filter: string, opts: SubOptions): void;
  unsubscribe(clientId: string, filter: string): void;
  /** Deliver `msg` to every matching subscription, now. */
  publish(msg: Message): void;
  /**
   * Messages of shared deliveries a member's ended session left unacknowledged: each to another
   * member of its group (the member's subscriptions are removed first). MQTT 5.0 §4.8.2.
   */
  redeliver(from: string, ds: readonly Delivery[]): void;
  /** Subscriptions held (operators, tests). */
  readonly size: number;
}

/** A connection as the router sees it. */
export interface Subscriber {
  /** Non-null while connected (the connection's negotiated state). */
  readonly connected: object | null;
  /** A QoS 0 delivery, written at once (the cache holds the encoding shared by this pass). */
  deliverQos0(d: Delivery, cache: EncodeCache | null): void;
}

export interface RouterDeps {
  host: string;
  /** The connections of this node by client id (the client registry's `local`). */
  online: ReadonlyMap<string, Subscriber>;
  /** The session service: deliveries that go through a session. */
  sessions: { deliver(host: string, clientId: string, d: Delivery): unknown };
  /** Wall-clock ms (message expiry). */
  nowMs(): number;
  /** The host's mqtt.shared_subscription_strategy (read per message: host settings may change). */
  strategy(): SharedStrategy;
  /** One delivery to a shared group (vigil_mqtt_shared_deliveries_total{group}). */
  sharedDelivered(group: string): void;
}

interface SubEntry {
  clientId: string;
  opts: SubOptions;
}

export class LocalRouter implements Router {
  private readonly trie = new SubscriptionTrie<SubEntry>();
  /** Matches of the current pass, emptied after each. */
  private readonly scratch: SubEntry[] = [];
  private readonly groups = new SharedGroups();
  private readonly groupScratch: SharedGroup[] = [];
  private readonly online: ReadonlyMap<string, Subscriber>;

  constructor(private readonly deps: RouterDeps) {
    this.online = deps.online;
  }

  get size(): number {
    return this.trie.size + this.groups.size;
  }

  subscribe(clientId: string, filter: string, opts: SubOptions): void {
    const shared = parseShared(filter);
    if (shared === null) this.trie.add(filter, clientId, { clientId, opts });
    else if (shared !== 'invalid') this.groups.subscribe(clientId, shared, opts);
  }

  unsubscribe(clientId: string, filter: string): void {
    const shared = parseShared(filter);
    if (shared === null) this.trie.remove(filter, clientId);
    else if (shared !== 'invalid') this.groups.unsubscribe(clientId, shared);
  }

  publish(msg: Message): void {
    const matches = this.trie.match(msg.topic, this.scratch);
    const groups = this.groups.match(msg.topic, this.groupScratch);
    if (matches.length === 0 && groups.length === 0) return;
    const cache = new EncodeCache(this.deps.nowMs());
    if (groups.length > 0) {
      const picked = groups.slice();
      groups.length = 0;
      for (const g of picked) this.toGroup(g, msg, null, cache);
    }
    if (matches.length === 0) return;
    if (matches.length === 1) {
      const s = matches[0]!;
      matches.length = 0;
      if (s.opts.nl && s.clientId === msg.senderId) return;
      return this.sendTo(s.clientId, {
        msg,
        qos: Math.min(msg.qos, s.opts.qos) as Delivery['qos'],
        retain: s.opts.rap && msg.retain,
        subIds: s.opts.subId === null ? null : [s.opts.subId],
      }, cache);
    }
    // Overlapping subscriptions of one client: one delivery at the highest QoS, all ids [MQTT-3.3.5-1].
    const per = new Map<string, Delivery>();
    for (const s of matches) {
      if (s.opts.nl && s.clientId === msg.senderId) continue;
      const qos = Math.min(msg.qos, s.opts.qos) as Delivery['qos'];
      const d = per.get(s.clientId);
      if (!d) {
        per.set(s.clientId, { msg, qos, retain: s.opts.rap && msg.retain, subIds: s.opts.subId === null ? null : [s.opts.subId] });
      } else {
        if (qos > d.qos) d.qos = qos;
        if (s.opts.rap && msg.retain) d.retain = true;
        if (s.opts.subId !== null) (d.subIds ??= []).push(s.opts.subId);
      }
    }
    matches.length = 0;
    for (const [clientId, d] of per) this.sendTo(clientId, d, cache);
  }

  redeliver(from: string, ds: readonly Delivery[]): void {
    const cache = new EncodeCache(this.deps.nowMs());
    for (const d of ds) {
      const g = d.share === undefined ? undefined : this.groups.get(d.share);
      if (g !== undefined) this.toGroup(g, d.msg, from, cache);
    }
  }

  /** One delivery to the member of `g` the strategy picks (never `not`, the member that left). */
  private toGroup(g: SharedGroup, msg: Message, not: string | null, cache: EncodeCache): void {
    const list = not === null ? g.list : g.list.filter((m) => m !== not);
    const online = (id: string) => this.online.get(id)?.connected != null;
    const member = pickMember(this.deps.strategy(), list, g, msg.senderId, online);
    if (member === null) return;
    const opts = g.members.get(member)!;
    this.deps.sharedDelivered(g.key);
    // No Local is refused on shared subscriptions [MQTT-3.8.3-4]: nothing to skip here.
    this.sendTo(member, { msg, qos: Math.min(msg.qos, opts.qos) as Delivery['qos'], retain: opts.rap && msg.retain, subIds: opts.subId === null ? null : [opts.subId], share: g.key }, cache);
  }

  private sendTo(clientId: string, d: Delivery, cache: EncodeCache): void {
    const conn = this.online.get(clientId);
    // QoS 0 to an online client keeps the shared-encoding fast path; the rest goes through the session.
    if (conn && d.qos === 0 && conn.connected) conn.deliverQos0(d, cache);
    else this.deps.sessions.deliver(this.deps.host, clientId, d);
  }
}
