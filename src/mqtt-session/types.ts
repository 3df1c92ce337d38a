/**
 * Shared types of the pure MQTT session core (issue 5): the limits it is configured with, the
 * message shape it needs, the effects it returns as data and the figures it reports.
 *
 * The core never reads a clock, arms a timer or touches a socket or the store: every method takes
 * `nowMs` and returns effects; the connection layer (or a test) carries them out. `nowMs` must be
 * wall-clock milliseconds (Clock.now()), because deadlines (await_rel, session expiry) are persisted
 * and must mean the same thing after a restart.
 */

export type QoS = 0 | 1 | 2;

/**
 * What the core needs from a message: its QoS (already min(message, granted)), its topic (queue
 * priorities) and its expiry deadline (v5 Message Expiry, wall-clock ms, or null). The MQTT
 * channel's `Delivery` (src/mqtt/message.ts) has this shape.
 */
export interface Deliverable {
  readonly qos: QoS;
  readonly msg: { readonly topic: string; readonly expiresAt: number | null };
}

/** Per host limits, the `mqtt.*` session options (limits.ts; defaults in the config schema). */
export interface SessionLimits {
  /** Outbound QoS 1/2 awaiting ack; a v5 client Receive Maximum wins when smaller. */
  maxInflight: number;
  /** Inbound QoS 2 awaiting PUBREL; past it v5 PUBREC 0x97, v3 dropped. 0 = no limit. */
  maxAwaitingRel: number;
  /** Inbound QoS 2 awaiting PUBREL longer than this is forgotten (ms). */
  awaitRelTimeoutMs: number;
  /** Queue cap (messages); 0 = nothing is queued. */
  maxMqueueLen: number;
  /** Queue QoS 0 messages for offline sessions / behind a full window. */
  mqueueStoreQos0: boolean;
  /** Exact topic -> priority 1..255 (higher leaves the queue first). Empty = one FIFO. */
  mqueuePriorities: Readonly<Record<string, number>>;
  /** Priority of topics not in the table. */
  mqueueDefaultPriority: 'lowest' | 'highest';
  /** v3 persistent sessions expire this long after disconnect (ms). */
  sessionExpiryMs: number;
  /** Cap on the v5 Session Expiry Interval (ms); 0 = no cap. */
  maxSessionExpiryMs: number;
  /** v3 only: resend unacked messages after this, doubling each time (ms); 0 = off. */
  retryIntervalMs: number;
}

/** Why a message was dropped; every drop is counted per session. */
export type DropReason =
  /** The queue was full (the oldest, or the arriving message, was dropped). */
  | 'queue_full'
  /** QoS 0 with mqueue_store_qos0 = false and nowhere to send it. */
  | 'qos0_not_queued'
  /** v5 Message Expiry passed before delivery [MQTT-3.3.2-5]. */
  | 'expired'
  /** Inbound QoS 2 over max_awaiting_rel. */
  | 'awaiting_rel_full'
  /** Inbound QoS 2 whose PUBREL did not come within await_rel_timeout. */
  | 'await_rel_timeout';

export const DROP_REASONS: readonly DropReason[] = ['queue_full', 'qos0_not_queued', 'expired', 'awaiting_rel_full', 'await_rel_timeout'];

/** The core's timers: at most one of each per session (EMQX arms one per kind, not per message). */
export type SessionTimer = 'await_rel' | 'retry';

/** Phases of an outbound QoS 1/2 message (MQTT 5.0 §4.3). */
export type OutboundPhase = 'await_puback' | 'await_pubrec' | 'await_pubcomp';

/**
 * A change to persist (persistent sessions only; a clean session emits none). Inflight and queue
 * rows are keyed by packet id and queue sequence number. The durable writer adds host + client id.
 */
export type SessionWrite<M> =
  | { kind: 'inflight_put'; id: number; phase: OutboundPhase; msg: M }
  /** PUBREC received: only the id is left to complete (the message itself is delivered). */
  | { kind: 'inflight_phase'; id: number; phase: OutboundPhase }
  | { kind: 'inflight_del'; id: number }
  | { kind: 'queue_put'; seq: number; msg: M }
  | { kind: 'queue_del'; seq: number }
  | { kind: 'rel_put'; id: number; atMs: number }
  | { kind: 'rel_del'; id: number }
  | { kind: 'sub_put'; filter: string; opts: unknown }
  | { kind: 'sub_del'; filter: string };

/** What the core asks the connection layer to do. */
export type SessionEffect<M> =
  /** Send PUBLISH: `id` 0 for QoS 0; `dup` on redelivery [MQTT-3.3.1-1]. */
  | { type: 'publish'; id: number; msg: M; dup: boolean }
  /** Send PUBREL (`reasonCode` 0x92 for an unknown PUBREC id, v5 only). */
  | { type: 'pubrel'; id: number; reasonCode: number }
  | { type: 'arm'; timer: SessionTimer; delayMs: number }
  | { type: 'cancel'; timer: SessionTimer }
  | { type: 'store'; write: SessionWrite<M> }
  | { type: 'dropped'; reason: DropReason; msg: M | null };

/** Flat record for the presence table / REST. */
export interface SessionFigures {
  connected: boolean;
  persistent: boolean;
  inflight: number;
  window: number;
  queued: number;
  awaitingRel: number;
  awaitingComp: number;
  subscriptions: number;
  dropped: number;
  droppedQueueFull: number;
  droppedQos0: number;
  droppedExpired: number;
  droppedAwaitingRelFull: number;
  droppedAwaitRelTimeout: number;
  /** Wall-clock ms at which an offline session expires, or null (connected / never). */
  expiresAt: number | null;
}

export type ProtocolVersion = 3 | 4 | 5;

export type Link = { state: 'online'; version: ProtocolVersion; window: number } | { state: 'offline' };

export interface AttachOptions {
  version: ProtocolVersion;
  /** v5 Receive Maximum from CONNECT (absent = 65535). */
  receiveMaximum?: number;
}

export interface InflightEntry<M> {
  readonly id: number;
  phase: OutboundPhase;
  readonly msg: M;
  /** v3 retry: next resend (wall ms) and the current interval; 0 = not scheduled. */
  retryAt: number;
  retryDelayMs: number;
}

/** Inbound QoS 2 PUBLISH verdict: route it (accepted), ack again without routing, or refuse. */
export type Qos2Verdict = 'accepted' | 'duplicate' | 'refused';

export interface Result<M, V = undefined> {
  effects: SessionEffect<M>[];
  verdict: V;
}
