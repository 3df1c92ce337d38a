/**
 * The change feed: a bounded ring of changes with monotonic sequence numbers starting at 1.
 * A reader asks for entries after seq N; if N is older than what the ring still holds, the reader
 * is told `gone` and must re-snapshot (REST answers 410). Memory is bounded by `capacity`.
 *
 * Compact on purpose (one entry per online/offline event, 100,000 kept by default): an entry is
 * not a ChangeEntry object with a PresenceView but one slot of parallel columns, about 76 bytes:
 *
 *   nums  (Float64, 6 per entry)  at, generation, last_activity_at, next_deadline_at, last_rtt_ms, priority
 *   bits  (Int32)                 kind, state, available, liveness, reason, takeover, last reason, show
 *   refs  (3 per entry)           the row (host, transport, source, id and connected_at are read from it,
 *                                 they never change), the meta object, the status string
 *
 * Meta objects are shared with the row: the table replaces a row's meta on every change instead
 * of writing into it, so the object an entry holds is the snapshot. Null numbers are NaN. The
 * columns grow in chunks of CHUNK entries up to `capacity`, so a quiet server does not pay for a
 * large feed_size up front. A ChangeEntry is built only when read (REST, SSE) or for listeners.
 */
import type { DisconnectReason, LivenessState } from '../liveness/types.js';
import { type Row, resumableUntil } from './row.js';
import type { ChangeEntry, ChangeKind, FeedRead, Meta, PresenceView, Show } from './types.js';

/** What the table records for one change: the row's state right after it. */
export interface Snapshot {
  at: number;
  kind: ChangeKind;
  row: Row;
  generation: number;
  online: boolean;
  available: boolean;
  show: Show | null;
  status: string | null;
  priority: number | null;
  liveness: LivenessState | null;
  lastActivityAt: number;
  nextDeadlineAt: number | null;
  lastRttMs: number | null;
  lastReason: DisconnectReason | null;
  meta: Meta;
  /** offline: the reason; online: whether it was a takeover; null otherwise. */
  reason: DisconnectReason | null;
  takeover: boolean | null;
}

const CHUNK_BITS = 12;
const CHUNK = 1 << CHUNK_BITS;
const NUMS = 6;
const REFS = 3;

// Small enumerations as codes; 0 is "none". Strings not listed yet get the next code, so a new
// DisconnectReason or Show value needs no change here.
const KINDS: ChangeKind[] = ['online', 'offline', 'availability', 'liveness', 'meta'];
const LIVENESS: (LivenessState | null)[] = [null, 'active', 'probing', 'unresponsive', 'paused', 'resumable'];
const REASONS: (DisconnectReason | null)[] = [null];
const SHOWS: (Show | null)[] = [null];

function codeOf<T>(list: T[], v: T): number {
  const i = list.indexOf(v);
  if (i >= 0) return i;
  list.push(v);
  return list.length - 1;
}

// bits layout: kind 0-2, online 3, available 4, takeover 5-6 (0 absent, 1 false, 2 true),
// liveness 7-9, show 10-13, reason 14-21, last reason 22-29.
const ONLINE = 1 << 3;
const AVAILABLE = 1 << 4;

const orNaN = (n: number | null): number => (n === null ? Number.NaN : n);
const orNull = (n: number): number | null => (Number.isNaN(n) ? null : n);

class Chunk {
  readonly nums: Float64Array;
  readonly bits: Int32Array;
  readonly refs: unknown[];
  constructor(size: number) {
    this.nums = new Float64Array(size * NUMS);
    this.bits = new Int32Array(size);
    this.refs = new Array<unknown>(size * REFS).fill(null);
  }
}

export class ChangeFeed {
  private readonly chunks: Chunk[] = [];
  private last = 0;
  private readonly listeners = new Set<(e: ChangeEntry) => void>();

  constructor(readonly capacity: number) {}

  nextSeq(): number {
    return this.last + 1;
  }

  lastSeq(): number {
    return this.last;
  }

  /** Oldest sequence number still held (lastSeq + 1 when empty). */
  oldestSeq(): number {
    return Math.max(1, this.last - this.capacity + 1);
  }

  /** Record a change under the next sequence number; returns it. */
  push(s: Snapshot): number {
    const seq = ++this.last;
    const slot = seq % this.capacity;
    const c = (this.chunks[slot >>> CHUNK_BITS] ??= new Chunk(Math.min(CHUNK, this.capacity)));
    const i = slot & (CHUNK - 1);
    const n = i * NUMS;
    c.nums[n] = s.at;
    c.nums[n + 1] = s.generation;
    c.nums[n + 2] = s.lastActivityAt;
    c.nums[n + 3] = orNaN(s.nextDeadlineAt);
    c.nums[n + 4] = orNaN(s.lastRttMs);
    c.nums[n + 5] = orNaN(s.priority);
    c.bits[i] =
      codeOf(KINDS, s.kind) |
      (s.online ? ONLINE : 0) |
      (s.available ? AVAILABLE : 0) |
      ((s.takeover === null ? 0 : s.takeover ? 2 : 1) << 5) |
      (codeOf(LIVENESS, s.liveness) << 7) |
      (codeOf(SHOWS, s.show) << 10) |
      (codeOf(REASONS, s.reason) << 14) |
      (codeOf(REASONS, s.lastReason) << 22);
    const r = i * REFS;
    c.refs[r] = s.row;
    c.refs[r + 1] = s.meta;
    c.refs[r + 2] = s.status;
    if (this.listeners.size > 0) {
      const entry = this.entry(seq);
      for (const l of this.listeners) l(entry);
    }
    return seq;
  }

  read(afterSeq: number, limit: number): FeedRead {
    const after = Math.max(0, Math.floor(afterSeq));
    const oldest = this.oldestSeq();
    if (after < oldest - 1 && this.last > 0) return { kind: 'gone', oldest_seq: oldest, last_seq: this.last };
    const entries: ChangeEntry[] = [];
    for (let s = after + 1; s <= this.last && entries.length < limit; s++) entries.push(this.entry(s));
    return { kind: 'ok', entries, last_seq: this.last };
  }

  onChange(listener: (e: ChangeEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The ChangeEntry of a held sequence number, as the table's emit used to build it. */
  private entry(seq: number): ChangeEntry {
    const slot = seq % this.capacity;
    const c = this.chunks[slot >>> CHUNK_BITS]!;
    const i = slot & (CHUNK - 1);
    const n = i * NUMS;
    const bits = c.bits[i]!;
    const r = i * REFS;
    const row = c.refs[r] as Row;
    const generation = c.nums[n + 1]!;
    const online = (bits & ONLINE) !== 0;
    const liveness = LIVENESS[(bits >>> 7) & 0x7] ?? null;
    const next = orNull(c.nums[n + 3]!);
    const view: PresenceView = {
      host: row.host,
      transport: row.transport,
      source: row.source,
      id: row.id,
      generation,
      state: online ? 'online' : 'offline',
      available: (bits & AVAILABLE) !== 0,
      show: SHOWS[(bits >>> 10) & 0xf] ?? null,
      status: c.refs[r + 2] as string | null,
      priority: orNull(c.nums[n + 5]!),
      liveness,
      connected_at: row.connectedAt,
      disconnected_at: online ? null : row.disconnectedAt,
      last_activity_at: c.nums[n + 2]!,
      next_deadline_at: next,
      resumable_until: resumableUntil(liveness, next),
      last_rtt_ms: orNull(c.nums[n + 4]!),
      last_disconnect_reason: REASONS[(bits >>> 22) & 0xff] ?? null,
      meta: { ...(c.refs[r + 1] as Meta) },
    };
    const entry: ChangeEntry = {
      seq,
      at: c.nums[n]!,
      kind: KINDS[bits & 0x7]!,
      host: row.host,
      transport: row.transport,
      source: row.source,
      id: row.id,
      generation,
      row: view,
    };
    const reason = REASONS[(bits >>> 14) & 0xff] ?? null;
    if (reason !== null) entry.reason = reason;
    const takeover = (bits >>> 5) & 0x3;
    if (takeover !== 0) entry.takeover = takeover === 2;
    return entry;
  }
}
