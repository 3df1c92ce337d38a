/**
 * The lazily made parts of an MqttSession (session-state.ts), kept apart so a clean session with nothing
 * in flight holds only a few fields: the QoS 1/2 state (inflight, awaiting PUBREL, queue, drop
 * counters, timers, packet id cursor) lives in a Flow made on first use, each map inside it on its
 * own first use. The accessors keep the session's code reading them by name; reading never makes
 * the Flow, writing a value does. Shared read-only defaults stand in for parts not made yet.
 */
import type { MQueue } from './mqueue.js';
import type { Deliverable, DropReason, InflightEntry, Link } from './types.js';

/** The QoS 1/2 side of a session, made on its first use (each map inside it on its own first use). */
export class Flow<M extends Deliverable> {
  cursor = 1;
  /** When the armed timers fire (wall ms), null when not armed. */
  relTimerAt: number | null = null;
  retryTimerAt: number | null = null;
  inflight: Map<number, InflightEntry<M>> | null = null;
  /** Inbound QoS 2 packet id -> when the PUBLISH arrived (wall ms); insertion = arrival order. */
  rel: Map<number, number> | null = null;
  queue: MQueue<M> | null = null;
  drops: Record<DropReason, number> | null = null;
}

export abstract class SessionParts<M extends Deliverable> {
  private flow: Flow<M> | null = null;

  // The flow's parts under their own names; reading never makes the flow, writing a value does.
  protected f(): Flow<M> {
    return (this.flow ??= new Flow<M>());
  }
  protected get cursor(): number {
    return this.flow?.cursor ?? 1;
  }
  protected set cursor(v: number) {
    this.f().cursor = v;
  }
  protected get relTimerAt(): number | null {
    return this.flow?.relTimerAt ?? null;
  }
  protected set relTimerAt(v: number | null) {
    if (v !== null || this.flow) this.f().relTimerAt = v;
  }
  protected get retryTimerAt(): number | null {
    return this.flow?.retryTimerAt ?? null;
  }
  protected set retryTimerAt(v: number | null) {
    if (v !== null || this.flow) this.f().retryTimerAt = v;
  }
  protected get inflightMap(): Map<number, InflightEntry<M>> | null {
    return this.flow?.inflight ?? null;
  }
  protected set inflightMap(v: Map<number, InflightEntry<M>> | null) {
    this.f().inflight = v;
  }
  protected get relMap(): Map<number, number> | null {
    return this.flow?.rel ?? null;
  }
  protected set relMap(v: Map<number, number> | null) {
    this.f().rel = v;
  }
  protected get mqueue(): MQueue<M> | null {
    return this.flow?.queue ?? null;
  }
  protected set mqueue(v: MQueue<M> | null) {
    this.f().queue = v;
  }
  protected get dropCounts(): Record<DropReason, number> | null {
    return this.flow?.drops ?? null;
  }
  protected set dropCounts(v: Record<DropReason, number> | null) {
    this.f().drops = v;
  }

  // The public read-only views, shared empty ones until a part is made.

  /** Outbound QoS 1/2 messages awaiting their ack, by packet id, in first-send order. */
  get inflight(): ReadonlyMap<number, InflightEntry<M>> {
    return this.inflightMap ?? (EMPTY_MAP as ReadonlyMap<number, InflightEntry<M>>);
  }

  /** Inbound QoS 2 packet id -> when the PUBLISH arrived (wall ms); insertion = arrival order. */
  get awaitingRel(): ReadonlyMap<number, number> {
    return this.relMap ?? (EMPTY_MAP as ReadonlyMap<number, number>);
  }

  /** The message queue (a shared empty one until the first message is queued). */
  get queue(): Pick<MQueue<M>, 'length' | 'entries'> {
    return this.mqueue ?? EMPTY_QUEUE;
  }

  get drops(): Readonly<Record<DropReason, number>> {
    return this.dropCounts ?? NO_DROPS;
  }
}

export const OFFLINE: Link = Object.freeze({ state: 'offline' });

/** Shared by every session that has not used a map yet; typed read-only, and refuses writes at run time too. */
class EmptyMap extends Map<unknown, never> {
  override set(): never {
    throw new TypeError('mqtt-session: the shared empty map is read-only');
  }
}
export const EMPTY_MAP: ReadonlyMap<unknown, never> = Object.freeze(new EmptyMap());

export const EMPTY_QUEUE: Pick<MQueue<never>, 'length' | 'entries'> = Object.freeze({ length: 0, entries: () => [] });

export const NO_DROPS: Readonly<Record<DropReason, number>> = Object.freeze({
  queue_full: 0,
  qos0_not_queued: 0,
  expired: 0,
  awaiting_rel_full: 0,
  await_rel_timeout: 0,
});
