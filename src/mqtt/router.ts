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
 * Synchronous, and the QoS 0 path to local subscribers allocates only the encode cache and the
 * deliveries (one match: no map): a cluster router (issue 16) wraps this one, forwarding to the
 * nodes its route table names, and keeps local delivery here. Retained messages are not the
 * router's (retained.ts): the broker stores them before it routes.
 */
import type { SubOptions } from './channel-session.js';
import { EncodeCache } from './deliver.js';
import type { Delivery, Message } from './message.js';
import { SubscriptionTrie } from './trie.js';

export interface Router {
  /** Add or replace `clientId`'s subscription to `filter` [MQTT-3.8.4-3]. */
  subscribe(clientId: string, filter: string, opts: SubOptions): void;
  unsubscribe(clientId: string, filter: string): void;
  /** Deliver `msg` to every matching subscription, now. */
  publish(msg: Message): void;
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
}

interface SubEntry {
  clientId: string;
  opts: SubOptions;
}

export class LocalRouter implements Router {
  private readonly trie = new SubscriptionTrie<SubEntry>();
  /** Matches of the current pass, emptied after each. */
  private readonly scratch: SubEntry[] = [];
  private readonly online: ReadonlyMap<string, Subscriber>;

  constructor(private readonly deps: RouterDeps) {
    this.online = deps.online;
  }

  get size(): number {
    return this.trie.size;
  }

  subscribe(clientId: string, filter: string, opts: SubOptions): void {
    this.trie.add(filter, clientId, { clientId, opts });
  }

  unsubscribe(clientId: string, filter: string): void {
    this.trie.remove(filter, clientId);
  }

  publish(msg: Message): void {
    const matches = this.trie.match(msg.topic, this.scratch);
    if (matches.length === 0) return;
    const cache = new EncodeCache(this.deps.nowMs());
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

  private sendTo(clientId: string, d: Delivery, cache: EncodeCache): void {
    const conn = this.online.get(clientId);
    // QoS 0 to an online client keeps the shared-encoding fast path; the rest goes through the session.
    if (conn && d.qos === 0 && conn.connected) conn.deliverQos0(d, cache);
    else this.deps.sessions.deliver(this.deps.host, clientId, d);
  }
}
