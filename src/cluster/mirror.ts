/**
 * The in-memory mirror of cluster presence on every node: rows rebuilt from Redis (a snapshot at
 * start, then every feed entry in seq order), so REST reads (list, filters, paging, one endpoint)
 * and the change feed (JSON pages, SSE) are served from memory and answer the same on every node.
 * Redis stays the source of truth (decision 3).
 *
 * Exactness: every row carries the seq of its last change (`s`), and an entry is applied only when
 * its seq is newer, so the snapshot (read row by row while writes go on) and the entries read
 * after it converge. Paging order is the seq that created the row (`o`), the same on every node.
 * The feed ring holds the last `feedSize` entries as ChangeEntry objects; quiet meta changes
 * update rows but are not served as feed entries (their seq is a gap, which SSE ids allow).
 */
import type { DisconnectReason, LivenessState, Transport } from '../liveness/types.js';
import type { ChangeEntry, ChangeKind, FeedRead, ListFilter, ListPage, Meta, PresenceView, Show } from '../presence/types.js';
import { parseEpName } from './keys.js';

export interface MirrorRow {
  readonly name: string;
  view: PresenceView;
  conn: string;
  /** Seq of the last change applied. */
  seq: number;
  /** Seq that created the row: paging order. */
  order: number;
  removed: boolean;
}

/** One feed entry as read from the stream: seq and the flat field list. */
export interface RawEntry {
  seq: number;
  fields: readonly string[];
}

const num = (s: string | undefined): number | null => (s === undefined || s === '' ? null : Number(s));
const KINDS = new Set<ChangeKind>(['online', 'offline', 'availability', 'liveness', 'meta']);

function fieldMap(fields: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) m.set(fields[i]!, fields[i + 1]!);
  return m;
}

/** A PresenceView from endpoint hash fields (keys.ts / scripts.ts name them). */
export function viewFromFields(name: string, f: Map<string, string>): PresenceView | null {
  const ep = parseEpName(name);
  if (!ep) return null;
  let meta: Meta = {};
  try {
    const m = f.get('m');
    if (m) meta = JSON.parse(m) as Meta;
    if (Array.isArray(meta)) meta = {}; // cjson encodes an empty table as []
  } catch {
    meta = {};
  }
  const online = f.get('st') === 'online';
  return {
    host: ep.host,
    transport: ep.transport,
    id: ep.id,
    generation: Number(f.get('g') ?? 0),
    state: online ? 'online' : 'offline',
    available: f.get('av') === '1',
    show: (f.get('sh') || null) as Show | null,
    status: f.get('su') || null,
    priority: num(f.get('pr')),
    liveness: (f.get('lv') || null) as LivenessState | null,
    connected_at: Number(f.get('ca') ?? 0),
    disconnected_at: online ? null : num(f.get('da')),
    last_activity_at: Number(f.get('la') ?? 0),
    next_deadline_at: null,
    last_rtt_ms: num(f.get('rt')),
    last_disconnect_reason: (f.get('lr') || null) as DisconnectReason | null,
    meta,
    node: f.get('n') ?? '',
  };
}

/** The ChangeEntry of a feed entry; null for a quiet one (an unannounced meta change). */
function entryOf(seq: number, kind: ChangeKind, view: PresenceView, f: Map<string, string>): ChangeEntry | null {
  if (f.get('x') === 'q' || !KINDS.has(kind)) return null;
  const entry: ChangeEntry = { seq, at: Number(f.get('at') ?? 0), kind, host: view.host, transport: view.transport, id: view.id, generation: view.generation, row: view };
  const reason = f.get('r');
  if (kind === 'offline' && reason) entry.reason = reason as DisconnectReason;
  if (kind === 'online') entry.takeover = f.get('x') === '1';
  return entry;
}

const copy = (v: PresenceView): PresenceView => ({ ...v, meta: { ...v.meta } });

export class Mirror {
  private readonly rows = new Map<string, MirrorRow>();
  /** Per host: rows in creation order (append-only, removed rows compacted lazily). */
  private readonly byHost = new Map<string, MirrorRow[]>();
  private readonly offline = new Set<MirrorRow>();
  private readonly ring: (ChangeEntry | undefined)[];
  private first = 0;
  private last = 0;
  private readonly listeners = new Set<(e: ChangeEntry) => void>();
  private readonly entryListeners = new Set<(e: ChangeEntry, row: MirrorRow) => void>();

  constructor(
    readonly feedSize: number,
    private readonly offlineTtlMs: number,
    private readonly maxOffline: number,
  ) {
    this.ring = new Array<ChangeEntry | undefined>(feedSize);
  }

  lastSeq(): number {
    return this.last;
  }

  get size(): number {
    return this.rows.size;
  }

  /** Start (or restart after a reset) at a snapshot: rows and the seq they were read at. */
  reset(lastSeq: number): void {
    this.rows.clear();
    this.byHost.clear();
    this.offline.clear();
    this.ring.fill(undefined);
    this.first = lastSeq + 1;
    this.last = lastSeq;
  }

  /** A row read from Redis (snapshot): HGETALL fields. */
  load(name: string, fields: readonly string[]): void {
    const f = fieldMap(fields);
    const view = viewFromFields(name, f);
    if (!view) return;
    this.put(name, view, f);
  }

  private put(name: string, view: PresenceView, f: Map<string, string>): MirrorRow {
    const seq = Number(f.get('s') ?? 0);
    const order = Number(f.get('o') ?? seq);
    const had = this.rows.get(name);
    if (had && had.order === order) {
      if (had.view.state === 'offline') this.offline.delete(had);
      had.view = view;
      had.conn = f.get('c') ?? '';
      had.seq = seq;
      if (view.state === 'offline') this.offline.add(had);
      return had;
    }
    if (had) this.remove(had);
    const row: MirrorRow = { name, view, conn: f.get('c') ?? '', seq, order, removed: false };
    this.rows.set(name, row);
    let list = this.byHost.get(view.host);
    if (!list) this.byHost.set(view.host, (list = []));
    // Entries come in seq order, so a new row's order is the largest (snapshot rows come sorted).
    if (list.length > 0 && list[list.length - 1]!.order > order) {
      let i = list.length;
      while (i > 0 && list[i - 1]!.order > order) i--;
      list.splice(i, 0, row);
    } else list.push(row);
    if (view.state === 'offline') this.offline.add(row);
    return row;
  }

  private remove(row: MirrorRow): void {
    if (row.removed) return;
    row.removed = true;
    if (this.rows.get(row.name) === row) this.rows.delete(row.name);
    this.offline.delete(row);
    const list = this.byHost.get(row.view.host);
    if (list && list.length > 1024) {
      let dead = 0;
      for (const r of list) if (r.removed) dead++;
      if (dead * 2 > list.length) this.byHost.set(row.view.host, list.filter((r) => !r.removed));
    }
  }

  /** Apply one feed entry (in seq order). Returns the ChangeEntry served, or null (quiet, stale). */
  apply(raw: RawEntry): ChangeEntry | null {
    if (raw.seq <= this.last) return null;
    const f = fieldMap(raw.fields);
    const name = f.get('k') ?? '';
    const kind = f.get('t') as ChangeKind;
    this.last = raw.seq;
    const view = viewFromFields(name, f);
    if (!view) return null;
    const had = this.rows.get(name);
    let row: MirrorRow;
    if (had && had.seq >= raw.seq) row = had; // the snapshot already has it
    else row = this.put(name, view, f);
    const entry = entryOf(raw.seq, kind, view, f);
    if (!entry) return null;
    this.ring[raw.seq % this.feedSize] = entry;
    if (this.first === 0) this.first = raw.seq;
    for (const l of this.entryListeners) l(entry, row);
    for (const l of this.listeners) l(entry);
    if (kind === 'offline') this.trimOffline();
    return entry;
  }

  /** Entries older than the snapshot (the stream's tail), so a reader can resume from them here. */
  preload(raws: readonly RawEntry[]): void {
    for (const raw of raws) {
      if (raw.seq > this.last || raw.seq <= this.last - this.feedSize) continue;
      const f = fieldMap(raw.fields);
      const view = viewFromFields(f.get('k') ?? '', f);
      const entry = view && entryOf(raw.seq, f.get('t') as ChangeKind, view, f);
      if (!entry) continue;
      this.ring[raw.seq % this.feedSize] = entry;
      if (raw.seq < this.first) this.first = raw.seq;
    }
  }

  private trimOffline(): void {
    while (this.offline.size > this.maxOffline) {
      const oldest = this.offline.values().next().value as MirrorRow;
      this.remove(oldest);
    }
  }

  /** Drop offline rows older than the TTL (the GC script does the same in Redis). */
  sweep(now: number): void {
    const cutoff = now - this.offlineTtlMs;
    for (const r of [...this.offline]) if ((r.view.disconnected_at ?? 0) <= cutoff) this.remove(r);
  }

  row(host: string, transport: Transport, id: string): MirrorRow | undefined {
    return this.rows.get(`${host}|${transport}|${id}`);
  }

  get(host: string, transport: Transport, id: string): PresenceView | undefined {
    const r = this.row(host, transport, id);
    return r && copy(r.view);
  }

  list(host: string, filter: ListFilter, limit: number, cursor: string | null): ListPage {
    const list = this.byHost.get(host) ?? [];
    const after = cursor ? Number.parseInt(cursor, 36) || 0 : 0;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.order <= after) lo = mid + 1;
      else hi = mid;
    }
    const items: PresenceView[] = [];
    let lastOrder = 0;
    for (let i = lo; i < list.length; i++) {
      const r = list[i]!;
      const v = r.view;
      if (r.removed) continue;
      if (filter.transport !== undefined && v.transport !== filter.transport) continue;
      if (filter.state !== undefined && v.state !== filter.state) continue;
      if (filter.liveness !== undefined && v.liveness !== filter.liveness) continue;
      if (items.length === limit) return { items, next_cursor: lastOrder.toString(36) };
      items.push(copy(v));
      lastOrder = r.order;
    }
    return { items, next_cursor: null };
  }

  listByPrefix(host: string, transport: Transport, prefix: string): PresenceView[] {
    const out: MirrorRow[] = [];
    for (const r of this.byHost.get(host) ?? []) {
      if (r.removed || r.view.transport !== transport) continue;
      if (r.view.id === prefix || r.view.id.startsWith(`${prefix}/`)) out.push(r);
    }
    return out.map((r) => copy(r.view));
  }

  count(host: string, transport?: Transport, state?: 'online' | 'offline'): number {
    let n = 0;
    for (const r of this.byHost.get(host) ?? []) {
      if (r.removed) continue;
      if (transport !== undefined && r.view.transport !== transport) continue;
      if (state !== undefined && r.view.state !== state) continue;
      n++;
    }
    return n;
  }

  /** Rows online on a node (GET /v1/cluster, tests). */
  onlineOn(node: string): number {
    let n = 0;
    for (const r of this.rows.values()) if (r.view.state === 'online' && r.view.node === node) n++;
    return n;
  }

  readFeed(afterSeq: number, limit: number): FeedRead {
    const after = Math.max(0, Math.floor(afterSeq));
    const oldest = Math.max(this.first, this.last - this.feedSize + 1);
    if (after < oldest - 1 && this.last > 0) return { kind: 'gone', oldest_seq: oldest, last_seq: this.last };
    const entries: ChangeEntry[] = [];
    for (let s = after + 1; s <= this.last && entries.length < limit; s++) {
      const e = this.ring[s % this.feedSize];
      if (e && e.seq === s) entries.push(e);
    }
    return { kind: 'ok', entries, last_seq: this.last };
  }

  onChange(listener: (e: ChangeEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every served entry with its row (the node watches takeovers of its own connections here). */
  onEntry(listener: (e: ChangeEntry, row: MirrorRow) => void): () => void {
    this.entryListeners.add(listener);
    return () => this.entryListeners.delete(listener);
  }
}
