/**
 * Presence table: per host and endpoint, who is connected, available, alive, since when.
 * Fed by liveness events (online/offline/liveness/rtt) and by protocol adapters (availability,
 * transport-specific metadata). Every change gets a monotonic sequence number and goes into a
 * bounded change feed readable "after seq N".
 */
import type {
  DisconnectReason,
  EndpointKey,
  EndpointRef,
  LivenessHandle,
  LivenessState,
  Transport,
} from '../liveness/types.js';

export type Show = 'chat' | 'away' | 'dnd' | 'xa';

export interface Availability {
  /** XMPP: initial presence sent and not yet unavailable (RFC 6121 §4.2). MQTT: online while connected. */
  available: boolean;
  show: Show | null;
  status: string | null;
  priority: number | null;
}

/** Transport-specific fields shown as they are (MQTT: username, protocol level, keepalive, ...). */
export type Meta = Record<string, string | number | boolean | null>;

/** Lazily computed extra figures (MQTT session: inflight, queue length, drops, expiry deadline). */
export type FiguresProvider = () => Meta;

/**
 * Extra figures for every online row of a transport, by host and id: one function for all rows
 * instead of a FiguresProvider closure per connection. A row's own provider (setFigures) wins.
 */
export type FiguresSource = (host: string, id: string) => Meta;

/** `source` of the rows of clients Vigil terminates itself; gateway rows carry the gateway's name. */
export const LOCAL_SOURCE = 'local';

/**
 * An endpoint key with its source: ids are namespaced per source, so two gateways (or a gateway and
 * Vigil itself) can hold the same client id. No source means LOCAL_SOURCE.
 */
export interface PresenceKey extends EndpointKey {
  source?: string;
}

/** What the REST API serves for one endpoint. Wall-clock times in ms since the epoch. */
export interface PresenceView {
  host: string;
  transport: Transport;
  /** LOCAL_SOURCE, or the name of the gateway the row was ingested from (src/presence/ingest.ts). */
  source: string;
  id: string;
  generation: number;
  state: 'online' | 'offline';
  available: boolean;
  show: Show | null;
  status: string | null;
  priority: number | null;
  liveness: LivenessState | null;
  connected_at: number;
  disconnected_at: number | null;
  last_activity_at: number;
  next_deadline_at: number | null;
  /** XEP-0198: while liveness is `resumable`, when the session goes offline (resume_timeout) unless resumed. */
  resumable_until: number | null;
  last_rtt_ms: number | null;
  last_disconnect_reason: DisconnectReason | null;
  meta: Meta;
  /** Cluster mode: the node that holds (or last held) the connection. */
  node?: string;
}

export type ChangeKind = 'online' | 'offline' | 'availability' | 'liveness' | 'meta';

export interface ChangeEntry {
  seq: number;
  at: number;
  kind: ChangeKind;
  host: string;
  transport: Transport;
  source: string;
  id: string;
  generation: number;
  /** Snapshot of the row right after the change. */
  row: PresenceView;
  /** offline: the reason; liveness: the new state; online: whether it was a takeover. */
  reason?: DisconnectReason;
  takeover?: boolean;
}

export interface ListFilter {
  transport?: Transport;
  source?: string;
  state?: 'online' | 'offline';
  liveness?: LivenessState;
  /** Text search: the id contains it, ignoring case. */
  q?: string;
}

export interface ListPage {
  items: PresenceView[];
  /** Pass back as `cursor` for the next page; null at the end. */
  next_cursor: string | null;
}

export type FeedRead =
  | { kind: 'ok'; entries: ChangeEntry[]; last_seq: number }
  /** The reader is behind the oldest kept entry: re-snapshot, then read after `last_seq`. */
  | { kind: 'gone'; oldest_seq: number; last_seq: number };

export interface PresenceTable {
  get(key: PresenceKey): PresenceView | undefined;
  /** Paged listing in creation order; O(log n + limit) per page for unfiltered reads. */
  list(host: string, filter: ListFilter, limit: number, cursor: string | null): ListPage;
  /** Rows of an XMPP bare JID: every resource `bare/...` of it (and `bare` itself if tracked so). */
  listByPrefix(host: string, transport: Transport, prefix: string, source?: string): PresenceView[];
  /** Rows of one source (default LOCAL_SOURCE) on a host. */
  count(host: string, transport?: Transport, state?: 'online' | 'offline', source?: string): number;
  /** Set availability (XMPP presence). Ignored for a stale generation. */
  setAvailability(ref: EndpointRef, availability: Availability): void;
  /** Merge metadata. Emits a `meta` change only when `announce` is true. Ignored for a stale generation. */
  setMeta(ref: EndpointRef, meta: Meta, announce?: boolean): void;
  /** Attach a lazily read figures provider (merged into meta on read). */
  setFigures(ref: EndpointRef, provider: FiguresProvider | null): void;
  /** Attach (or with null detach) the figures source of a transport (merged into meta on read and at offline). */
  setFiguresSource(transport: Transport, source: FiguresSource | null): void;
  /** The change feed. */
  readFeed(afterSeq: number, limit: number): FeedRead;
  lastSeq(): number;
  /** Wake on new entries (SSE). Returns an unsubscribe function. */
  onChange(listener: (entry: ChangeEntry) => void): () => void;
  /** Drop expired offline rows (called by a scheduler timer; exposed for tests). */
  sweep(): void;
  stop(): void;
}

export type { LivenessHandle };
