/**
 * Retained messages of one host (3.1.1 §3.3.1.3, 5.0 §3.3.1.3): the RetainedStore the broker puts
 * every retained PUBLISH into (before it routes it) and asks on SUBSCRIBE (after the SUBACK).
 * A retained PUBLISH with an empty payload clears the topic [MQTT-3.3.1-10/11]. Expiry (v5
 * Message Expiry Interval) is checked on delivery.
 *
 * RetainedIndex, the single-node store: an in-memory index for delivery speed, written through
 * to the store so they survive a restart; the store keeps the interval with the store time so a
 * restart keeps the deadline. A wildcard filter scans the index.
 * A cluster store (issue 16) keeps one copy in Redis: `matching` may then answer with a promise
 * (a round trip, through an index of topic levels rather than a scan of every key).
 */
import type { RetainedMessage, RetainedRepo } from '../store/types.js';
import type { Clock } from '../time/clock.js';
import { forwardableProperties, type Message } from './message.js';
import { topicMatches } from './topic.js';

export interface RetainedStore {
  /** Store or clear (empty payload) the retained message of `msg.topic`. */
  put(msg: Message): void;
  /** Retained messages matching a filter, not expired at `nowMs`. */
  matching(filter: string, nowMs: number): readonly Message[] | Promise<readonly Message[]>;
  /** Topics held (operators, tests). */
  readonly size: number;
}

export class RetainedIndex implements RetainedStore {
  private readonly byTopic = new Map<string, Message>();

  constructor(
    private readonly host: string,
    private readonly repo: RetainedRepo,
    private readonly clock: Clock,
  ) {}

  get size(): number {
    return this.byTopic.size;
  }

  /** Load what the store holds (start-up). */
  load(): void {
    for (const r of this.repo.list(this.host)) {
      const expiry = r.properties?.messageExpiryInterval;
      const expiresAt = typeof expiry === 'number' ? r.storedAt + expiry * 1000 : null;
      this.byTopic.set(r.topic, {
        topic: r.topic,
        payload: r.payload,
        qos: r.qos,
        retain: true,
        properties: forwardableProperties(r.properties), // only what a PUBLISH may carry on
        expiresAt,
        senderId: '',
      });
    }
  }

  /** Store or clear the retained message of `msg.topic`. */
  put(msg: Message): void {
    if (msg.payload.length === 0) {
      if (this.byTopic.delete(msg.topic)) this.repo.delete(this.host, msg.topic);
      return;
    }
    this.byTopic.set(msg.topic, msg);
    const now = this.clock.now();
    const props: Record<string, unknown> | null =
      msg.expiresAt === null
        ? msg.properties
        : { ...msg.properties, messageExpiryInterval: Math.max(0, Math.ceil((msg.expiresAt - now) / 1000)) };
    const rec: RetainedMessage = { topic: msg.topic, payload: msg.payload, qos: msg.qos, properties: props, storedAt: now };
    this.repo.put(this.host, rec);
  }

  /** Retained messages matching a filter, not expired. */
  matching(filter: string, nowMs: number): Message[] {
    const out: Message[] = [];
    if (!filter.includes('+') && !filter.includes('#')) {
      const m = this.byTopic.get(filter);
      if (m && (m.expiresAt === null || nowMs < m.expiresAt)) out.push(m);
      return out;
    }
    for (const m of this.byTopic.values()) {
      if (m.expiresAt !== null && nowMs >= m.expiresAt) continue;
      if (topicMatches(filter, m.topic)) out.push(m);
    }
    return out;
  }
}
