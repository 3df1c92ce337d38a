/**
 * One presence row and its view. Live figures (last activity, next deadline, rtt, liveness state)
 * are read from the liveness handle when the row is read, so activity costs the table nothing.
 *
 * Kept small (one per endpoint): flags share one integer, XMPP's show/status/priority live in a
 * side object only once set, the offline snapshot only once offline, and `meta` starts as a shared
 * empty object. `meta` is replaced on every change, never written into, so the change feed can
 * keep the object it saw as its snapshot (feed.ts).
 */
import type { DisconnectReason, LivenessHandle, LivenessState, Transport } from '../liveness/types.js';
import type { FiguresProvider, Meta, PresenceView, Show } from './types.js';

/** XMPP presence details (RFC 6121 §4.7.2); absent = all null. */
export interface Detail {
  readonly show: Show | null;
  readonly status: string | null;
  readonly priority: number | null;
}

/** What the row keeps from its liveness handle once offline. */
export interface Ended {
  readonly disconnectedAt: number;
  readonly lastActivityAt: number;
  readonly lastRttMs: number | null;
}

export const EMPTY_META: Meta = Object.freeze({});

const ONLINE = 1;
const AVAILABLE = 2;
const REMOVED = 4;
const ANNOUNCED_SHIFT = 3;
const ANNOUNCED: readonly (LivenessState | null)[] = [null, 'active', 'probing', 'unresponsive', 'paused'];

export class Row {
  /** ONLINE | AVAILABLE | REMOVED, and the last announced liveness state's code << 3. */
  private bits: number;
  detail: Detail | null = null;
  /** Set once, when the row goes offline (a row never comes back online: a new row does). */
  ended: Ended | null = null;
  meta: Meta = EMPTY_META;
  figures: FiguresProvider | null = null;

  constructor(
    readonly host: string,
    readonly transport: Transport,
    readonly id: string,
    public generation: number,
    /** Creation order inside the host, for cursor paging. */
    readonly order: number,
    readonly connectedAt: number,
    /** Live handle while online; null once offline (then `ended` holds its last figures). */
    public handle: LivenessHandle | null,
    public lastReason: DisconnectReason | null,
  ) {
    this.bits = ONLINE | (transport === 'mqtt' ? AVAILABLE : 0);
  }

  get online(): boolean {
    return (this.bits & ONLINE) !== 0;
  }

  get state(): 'online' | 'offline' {
    return this.online ? 'online' : 'offline';
  }

  get available(): boolean {
    return (this.bits & AVAILABLE) !== 0;
  }

  set available(v: boolean) {
    this.bits = v ? this.bits | AVAILABLE : this.bits & ~AVAILABLE;
  }

  get removed(): boolean {
    return (this.bits & REMOVED) !== 0;
  }

  markRemoved(): void {
    this.bits |= REMOVED;
  }

  /** Last liveness state announced in the feed (transitions active<->probing are not announced). */
  get announcedLiveness(): LivenessState | null {
    return ANNOUNCED[this.bits >>> ANNOUNCED_SHIFT] ?? null;
  }

  set announcedLiveness(s: LivenessState | null) {
    this.bits = (this.bits & ((1 << ANNOUNCED_SHIFT) - 1)) | (ANNOUNCED.indexOf(s) << ANNOUNCED_SHIFT);
  }

  get show(): Show | null {
    return this.detail?.show ?? null;
  }

  get status(): string | null {
    return this.detail?.status ?? null;
  }

  get priority(): number | null {
    return this.detail?.priority ?? null;
  }

  get disconnectedAt(): number | null {
    return this.ended?.disconnectedAt ?? null;
  }

  /** Wall ms of the last inbound activity (live from the handle while online). */
  lastActivityAt(): number {
    return this.handle ? this.handle.lastActivityAt() : (this.ended?.lastActivityAt ?? this.connectedAt);
  }

  lastRttMs(): number | null {
    return this.handle ? this.handle.lastRttMs : (this.ended?.lastRttMs ?? null);
  }

  /** Meta with the figures provider's current values merged in (a new object when there are figures). */
  currentMeta(): Meta {
    return this.figures ? { ...this.meta, ...this.figures() } : this.meta;
  }

  /** Go offline: keep the handle's last figures and the provider's last values, drop both. */
  end(at: number, reason: DisconnectReason): void {
    this.ended = { disconnectedAt: at, lastActivityAt: this.lastActivityAt(), lastRttMs: this.lastRttMs() };
    this.meta = this.currentMeta();
    this.handle = null;
    this.figures = null;
    this.bits &= ~(ONLINE | AVAILABLE);
    this.detail = null;
    this.lastReason = reason;
  }
}

export function viewOf(row: Row): PresenceView {
  const h = row.handle;
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
    last_activity_at: row.lastActivityAt(),
    next_deadline_at: h ? h.nextDeadlineAt() : null,
    last_rtt_ms: row.lastRttMs(),
    last_disconnect_reason: row.lastReason,
    meta: { ...row.currentMeta() },
  };
}
