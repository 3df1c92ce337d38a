/**
 * The MQTT session as the channel sees it (MQTT 5.0 §4.1), with a simple in-memory implementation.
 * The session core issue replaces MemorySession with a pure, durable one behind the same shape.
 *
 *   subscriptions      filter -> options (the trie holds the routing copy)
 *   inflight           packet id -> outbound QoS 1/2 message awaiting PUBACK, PUBREC or PUBCOMP
 *   pending            deliveries waiting for a free inflight slot (window = min(max_inflight,
 *                      client Receive Maximum)); bounded, the oldest is dropped past max_pending
 *   awaitingRel        inbound QoS 2 packet ids that got PUBREC and wait for PUBREL
 *
 * Packet ids are allocated 1..65535 round robin and never reused while in use [MQTT-2.2.1-3/4].
 * Nothing is resent inside a live connection [MQTT-4.4.0-1].
 */
import type { QoS } from 'mqtt-packet';
import type { Delivery } from './message.js';

export interface SubOptions {
  qos: QoS;
  /** v5 No Local. */
  nl: boolean;
  /** v5 Retain As Published. */
  rap: boolean;
  /** v5 Retain Handling 0..2. */
  rh: number;
  /** v5 Subscription Identifier, or null. */
  subId: number | null;
}

export type OutboundPhase = 'await_puback' | 'await_pubrec' | 'await_pubcomp';

export interface Outbound {
  delivery: Delivery;
  phase: OutboundPhase;
}

export interface Session {
  readonly host: string;
  readonly clientId: string;
  readonly subscriptions: Map<string, SubOptions>;
  readonly inflight: Map<number, Outbound>;
  readonly awaitingRel: Map<number, number>;
  /** Whether the session outlives the connection (clean session 0 / v5 Session Expiry > 0). */
  persistent: boolean;
  /** Number of deliveries dropped because pending was full. */
  readonly dropped: number;
  pendingLength(): number;
  /** A free packet id, or 0 when all 65535 are in use. */
  allocateId(): number;
  /** Queue a delivery that does not fit the window; drops the oldest past `max`. */
  enqueue(d: Delivery, max: number): void;
  /** The next queued delivery, if any. */
  dequeue(): Delivery | undefined;
}

export class MemorySession implements Session {
  readonly subscriptions = new Map<string, SubOptions>();
  readonly inflight = new Map<number, Outbound>();
  readonly awaitingRel = new Map<number, number>();
  dropped = 0;
  private pending: Delivery[] = [];
  private head = 0;
  private nextId = 1;

  constructor(
    readonly host: string,
    readonly clientId: string,
    public persistent: boolean,
  ) {}

  pendingLength(): number {
    return this.pending.length - this.head;
  }

  allocateId(): number {
    for (let tries = 0; tries < 65_535; tries++) {
      const id = this.nextId;
      this.nextId = id === 65_535 ? 1 : id + 1;
      if (!this.inflight.has(id)) return id;
    }
    return 0;
  }

  enqueue(d: Delivery, max: number): void {
    if (max <= 0) {
      this.dropped++;
      return;
    }
    if (this.pendingLength() >= max) {
      this.head++;
      this.dropped++;
    }
    this.pending.push(d);
  }

  dequeue(): Delivery | undefined {
    if (this.head >= this.pending.length) return undefined;
    const d = this.pending[this.head++];
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
    return d;
  }
}
