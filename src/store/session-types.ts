/**
 * Store contract for persistent MQTT sessions (issue 5): the session record, its subscriptions,
 * outbound inflight messages, queued messages and inbound QoS 2 ids awaiting PUBREL. Clean
 * sessions are never stored.
 *
 * Writes come as a list of small operations applied in one transaction (all or nothing), so the
 * session core's batching writer can group the changes of one event-loop turn and acknowledge
 * (PUBACK/PUBREC) only after the transaction committed. Operations on the rows of a session must
 * follow its `session_put`; `session_del` removes the session with everything it holds.
 * Times are wall-clock ms.
 */

export type StoredOutboundPhase = 'await_puback' | 'await_pubrec' | 'await_pubcomp';

/** One application message as a session keeps it (JSON-able except the payload). */
export interface StoredSessionMessage {
  topic: string;
  payload: Buffer;
  /** QoS of this delivery (min of message and subscription). */
  qos: 0 | 1 | 2;
  /** RETAIN flag of the outgoing PUBLISH. */
  retain: boolean;
  /** MQTT 5 properties to forward (Buffers kept), or null. */
  properties: Record<string, unknown> | null;
  /** v5 Message Expiry deadline (wall ms), or null. */
  expiresAt: number | null;
  /** Client id of the publisher ('' = server). */
  senderId: string;
  /** v5 Subscription Identifiers, or null. */
  subIds: number[] | null;
}

interface Key {
  host: string;
  clientId: string;
}

export type SessionOp =
  | (Key & { op: 'session_put'; expiryMs: number | null; expiresAt: number | null })
  | (Key & { op: 'session_del' })
  | (Key & { op: 'sub_put'; filter: string; opts: Record<string, unknown> })
  | (Key & { op: 'sub_del'; filter: string })
  | (Key & { op: 'inflight_put'; id: number; phase: StoredOutboundPhase; msg: StoredSessionMessage })
  | (Key & { op: 'inflight_phase'; id: number; phase: StoredOutboundPhase })
  | (Key & { op: 'inflight_del'; id: number })
  | (Key & { op: 'queue_put'; seq: number; msg: StoredSessionMessage })
  | (Key & { op: 'queue_del'; seq: number })
  | (Key & { op: 'rel_put'; id: number; atMs: number })
  | (Key & { op: 'rel_del'; id: number });

export interface StoredSession {
  host: string;
  clientId: string;
  /** Expiry interval after disconnect (ms), null = never. */
  expiryMs: number | null;
  /** Deadline of an offline session (wall ms), null = connected at the last write, or never. */
  expiresAt: number | null;
  /** Sorted by filter (UTF-8 byte order). */
  subscriptions: { filter: string; opts: Record<string, unknown> }[];
  /** In the order they were first sent (the resend order on resume). */
  inflight: { id: number; phase: StoredOutboundPhase; msg: StoredSessionMessage }[];
  /** By sequence number. */
  queue: { seq: number; msg: StoredSessionMessage }[];
  /** By arrival, then id. */
  awaitingRel: { id: number; atMs: number }[];
}

export interface SessionRepo {
  /** Apply the operations in order in one transaction. */
  apply(ops: readonly SessionOp[]): void;
  get(host: string, clientId: string): StoredSession | undefined;
  /** Every stored session (of a host), sorted by host then client id. */
  load(host?: string): StoredSession[];
  count(host?: string): number;
}
