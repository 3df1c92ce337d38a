/**
 * One presence row and its view. Live figures (last activity, next deadline, rtt, liveness state)
 * are read from the liveness handle when the row is read, so activity costs the table nothing.
 *
 * Kept small (one per endpoint, 112 bytes): flags share one integer, host and transport come from
 * a shared home, connected_at is a small integer from the home's epoch, XMPP's show/status/priority
 * and the offline snapshot live in a side object only once set, and `meta` starts as a shared
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

/** Rarely set parts of a row, kept aside so an online MQTT row does without them. */
interface Extra {
  detail: Detail | null;
  /** Set once, when the row goes offline (a row never comes back online: a new row does). */
  ended: Ended | null;
}

/**
 * The live figures a row reads while online: a liveness handle for clients Vigil terminates, or
 * what a gateway told about an ingested client (src/presence/ingest-rows.ts).
 */
export type LiveView = Pick<LivenessHandle, 'state' | 'lastRttMs' | 'lastActivityAt' | 'nextDeadlineAt'>;

/** Where a row lives: its host, transport and source, shared by all rows of the triple. */
export interface RowHome {
  readonly host: string;
  readonly transport: Transport;
  /** LOCAL_SOURCE or a gateway name. */
  readonly source: string;
  /** Wall ms that `connectedAt` counts from (small integers stay unboxed in the row). */
  readonly epoch: number;
}

const ONLINE = 1;
const AVAILABLE = 2;
const REMOVED = 4;
const ANNOUNCED_SHIFT = 3;
const ANNOUNCED: readonly (LivenessState | null)[] = [null, 'active', 'probing', 'unresponsive', 'paused', 'resumable'];

export class Row {
  /** ONLINE | AVAILABLE | REMOVED, and the last announced liveness state's code << 3. */
  private bits: number;
  private connectedRel: number;
  private extra: Extra | null = null;
  /** Replaced on every change, never written into (the feed keeps the object it saw). */
  meta: Meta = EMPTY_META;
  /** A provider of this row's own (setFigures); without one the table's per-transport source applies. */
  figures: FiguresProvider | null = null;

  constructor(
    private readonly home: RowHome,
    readonly id: string,
    public generation: number,
    /** Creation order inside the host, for cursor paging. */
    readonly order: number,
    connectedAt: number,
    /** Live figures while online; null once offline (then `ended` holds its last figures). */
    public handle: LiveView | null,
    public lastReason: DisconnectReason | null,
  ) {
    this.bits = ONLINE | (home.transport === 'mqtt' ? AVAILABLE : 0);
    this.connectedRel = connectedAt - home.epoch;
  }

  get host(): string {
    return this.home.host;
  }

  get transport(): Transport {
    return this.home.transport;
  }

  get source(): string {
    return this.home.source;
  }

  get connectedAt(): number {
    return this.home.epoch + this.connectedRel;
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

  private more(): Extra {
    return (this.extra ??= { detail: null, ended: null });
  }

  get detail(): Detail | null {
    return this.extra?.detail ?? null;
  }

  set detail(d: Detail | null) {
    if (d !== null || this.extra) this.more().detail = d;
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
    return this.extra?.ended?.disconnectedAt ?? null;
  }

  /** Wall ms of the last inbound activity (live from the handle while online). */
  lastActivityAt(): number {
    return this.handle ? this.handle.lastActivityAt() : (this.extra?.ended?.lastActivityAt ?? this.connectedAt);
  }

  lastRttMs(): number | null {
    return this.handle ? this.handle.lastRttMs : (this.extra?.ended?.lastRttMs ?? null);
  }

  /** Go offline with `meta` (figures merged in by the table): keep the handle's last figures, drop it. */
  end(at: number, reason: DisconnectReason, meta: Meta): void {
    const x = this.more();
    x.ended = { disconnectedAt: at, lastActivityAt: this.lastActivityAt(), lastRttMs: this.lastRttMs() };
    x.detail = null;
    this.figures = null;
    this.meta = meta;
    this.handle = null;
    this.bits &= ~(ONLINE | AVAILABLE);
    this.lastReason = reason;
  }
}

/** The REST view of a row; `meta` is what the table merged for it now (copied here). */
export function viewOf(row: Row, meta: Meta): PresenceView {
  const h = row.handle;
  const liveness = h ? h.state : null;
  const next = h ? h.nextDeadlineAt() : null;
  return {
    host: row.host,
    transport: row.transport,
    source: row.source,
    id: row.id,
    generation: row.generation,
    state: row.state,
    available: row.available,
    show: row.show,
    status: row.status,
    priority: row.priority,
    liveness,
    connected_at: row.connectedAt,
    disconnected_at: row.disconnectedAt,
    last_activity_at: row.lastActivityAt(),
    next_deadline_at: next,
    resumable_until: resumableUntil(liveness, next),
    last_rtt_ms: row.lastRttMs(),
    last_disconnect_reason: row.lastReason,
    meta: { ...meta },
  };
}

/** XEP-0198: a resumable endpoint's next liveness decision is the end of its resume window. */
export function resumableUntil(liveness: LivenessState | null, nextDeadlineAt: number | null): number | null {
  return liveness === 'resumable' ? nextDeadlineAt : null;
}

/** Same keys in the same order with the same values (what a row's meta is compared on for sharing). */
export function sameMeta(a: Meta, b: Meta): boolean {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i] || a[ka[i]!] !== b[ka[i]!]) return false;
  return true;
}
