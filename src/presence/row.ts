/**
 * One presence row and its view. Live figures (last activity, next deadline, rtt, liveness state)
 * are read from the liveness handle when the row is read, so activity costs the table nothing.
 */
import type { DisconnectReason, LivenessHandle, LivenessState, Transport } from '../liveness/types.js';
import type { FiguresProvider, Meta, PresenceView, Show } from './types.js';

export interface Row {
  readonly key: string;
  readonly host: string;
  readonly transport: Transport;
  readonly id: string;
  generation: number;
  /** Creation order inside the host, for cursor paging. */
  order: number;
  removed: boolean;
  state: 'online' | 'offline';
  available: boolean;
  show: Show | null;
  status: string | null;
  priority: number | null;
  connectedAt: number;
  disconnectedAt: number | null;
  lastReason: DisconnectReason | null;
  /** Live handle while online; null once offline (then the snapshot fields below hold). */
  handle: LivenessHandle | null;
  lastActivityAt: number;
  lastRttMs: number | null;
  /** Last liveness state announced in the feed (transitions active<->probing are not announced). */
  announcedLiveness: LivenessState | null;
  meta: Meta;
  figures: FiguresProvider | null;
}

export function rowKey(host: string, transport: Transport, id: string): string {
  return `${host}\u0000${transport}\u0000${id}`;
}

export function viewOf(row: Row): PresenceView {
  const h = row.handle;
  const meta = row.figures ? { ...row.meta, ...row.figures() } : { ...row.meta };
  return {
    host: row.host,
    transport: row.transport,
    id: row.id,
    generation: row.generation,
    state: row.state,
    available: row.available,
    show: row.show,
    status: row.status,
    priority: row.priority,
    liveness: h ? h.state : null,
    connected_at: row.connectedAt,
    disconnected_at: row.disconnectedAt,
    last_activity_at: h ? h.lastActivityAt() : row.lastActivityAt,
    next_deadline_at: h ? h.nextDeadlineAt() : null,
    last_rtt_ms: h ? h.lastRttMs : row.lastRttMs,
    last_disconnect_reason: row.lastReason,
    meta,
  };
}
