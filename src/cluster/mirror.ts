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
import type { Transport, Via } from '../liveness/types.js';
import { type ChangeEntry, type FeedRead, LOCAL_SOURCE, type ListFilter, type ListPage, type PresenceView } from '../presence/types.js';
import { parseEpName } from './keys.js';
import { Fields, KINDS, type MirrorRow, type RawEntry, entryOf, viewFromFields } from './mirror-fields.js';

const copy = (v: PresenceView): PresenceView => ({ ...v, meta: { ...v.meta } });

function viewOfRow(r: MirrorRow): PresenceView {
  return (r.view ??= viewFromFields(r.host, r.transport, r.id, r.f));
}

/** A ring slot: the fields of an entry until someone reads it, then the entry itself. */
type Slot = { seq: number; f: Fields; entry: ChangeEntry | null | undefined };

export class Mirror {
  private readonly rows = new Map<string, MirrorRow>();
  /** Per host: rows in creation order (append-only, removed rows compacted lazily). */
  private readonly byHost = new Map<string, MirrorRow[]>();
  private readonly offline = new Set<MirrorRow>();
  /** Rows per host and transport: [offline, online]. */
  private readonly counts = new Map<string, Record<Transport, [number, number]>>();
  private readonly ring: (Slot | undefined)[];
  private first = 0;
  private last = 0;
  private readonly listeners = new Set<(e: ChangeEntry) => void>();
  private readonly entryListeners = new Set<(seq: number, kind: string, row: MirrorRow) => void>();

  constructor(
    readonly feedSize: number,
    private readonly offlineTtlMs: number,
    private readonly maxOffline: number,
  ) {
    this.ring = new Array<Slot | undefined>(feedSize);
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
    this.counts.clear();
    this.ring.fill(undefined);
    this.first = lastSeq + 1;
    this.last = lastSeq;
  }

  /** A row read from Redis (snapshot): HGETALL fields. */
  load(name: string, fields: readonly string[]): void {
    this.put(name, new Fields(fields));
  }

  private put(name: string, f: Fields): MirrorRow | null {
    const seq = Number(f.s || 0);
    const order = Number(f.o || seq);
    const online = f.st === 'online';
    const had = this.rows.get(name);
    if (had && had.order === order) {
      if (!had.online) this.offline.delete(had);
      had.f = f;
      had.view = null;
      this.tally(had, -1);
      had.online = online;
      this.tally(had, 1);
      had.node = f.n;
      had.conn = f.c;
      had.seq = seq;
      if (!online) this.offline.add(had);
      return had;
    }
    const ep = parseEpName(name);
    if (!ep) return null;
    if (had) this.remove(had);
    const row: MirrorRow = { name, host: ep.host, transport: ep.transport, id: ep.id, f, view: null, online, node: f.n, conn: f.c, seq, order, removed: false };
    this.rows.set(name, row);
    this.tally(row, 1);
    let list = this.byHost.get(ep.host);
    if (!list) this.byHost.set(ep.host, (list = []));
    // Entries come in seq order, so a new row's order is the largest (snapshot rows come sorted).
    if (list.length > 0 && list[list.length - 1]!.order > order) {
      let i = list.length;
      while (i > 0 && list[i - 1]!.order > order) i--;
      list.splice(i, 0, row);
    } else list.push(row);
    if (!online) this.offline.add(row);
    return row;
  }

  private remove(row: MirrorRow): void {
    if (row.removed) return;
    row.removed = true;
    this.tally(row, -1);
    if (this.rows.get(row.name) === row) this.rows.delete(row.name);
    this.offline.delete(row);
    const list = this.byHost.get(row.host);
    if (list && list.length > 1024) {
      let dead = 0;
      for (const r of list) if (r.removed) dead++;
      if (dead * 2 > list.length) this.byHost.set(row.host, list.filter((r) => !r.removed));
    }
  }

  /** Apply one feed entry (in seq order). Views and ChangeEntry objects are built when read. */
  apply(raw: RawEntry): void {
    if (raw.seq <= this.last) return;
    this.last = raw.seq;
    const f = new Fields(raw.fields);
    if (!KINDS.has(f.t)) return;
    const had = this.rows.get(f.k);
    const row = had && had.seq >= raw.seq ? had : this.put(f.k, f); // the snapshot may have it already
    if (!row || f.x === 'q') return;
    const slot: Slot = { seq: raw.seq, f, entry: undefined };
    this.ring[raw.seq % this.feedSize] = slot;
    if (this.first === 0) this.first = raw.seq;
    for (const l of this.entryListeners) l(raw.seq, f.t, row);
    if (this.listeners.size > 0) {
      const e = this.entryAt(slot);
      if (e) for (const l of this.listeners) l(e);
    }
    if (f.t === 'offline') this.trimOffline();
  }

  /** Entries older than the snapshot (the stream's tail), so a reader can resume from them here. */
  preload(raws: readonly RawEntry[]): void {
    for (const raw of raws) {
      if (raw.seq > this.last || raw.seq <= this.last - this.feedSize) continue;
      const f = new Fields(raw.fields);
      if (f.x === 'q' || !KINDS.has(f.t)) continue;
      this.ring[raw.seq % this.feedSize] = { seq: raw.seq, f, entry: undefined };
      if (raw.seq < this.first) this.first = raw.seq;
    }
  }

  private entryAt(slot: Slot): ChangeEntry | null {
    if (slot.entry === undefined) slot.entry = entryOf(slot.seq, slot.f);
    return slot.entry;
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
    for (const r of [...this.offline]) if (Number(r.f.da || 0) <= cutoff) this.remove(r);
  }

  row(host: string, transport: Transport, id: string): MirrorRow | undefined {
    return this.rows.get(`${host}|${transport}|${id}`);
  }

  /** The row's current view (shared: do not change it). */
  viewOf(r: MirrorRow): PresenceView {
    return viewOfRow(r);
  }

  get(host: string, transport: Transport, id: string): PresenceView | undefined {
    const r = this.row(host, transport, id);
    return r && copy(viewOfRow(r));
  }

  list(host: string, filter: ListFilter, limit: number, cursor: string | null): ListPage {
    // Cluster rows are all Vigil's own (gateways are refused in cluster mode).
    if (filter.source !== undefined && filter.source !== LOCAL_SOURCE) return { items: [], next_cursor: null };
    const q = filter.q ? filter.q.toLowerCase() : null;
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
      if (r.removed) continue;
      if (filter.transport !== undefined && r.transport !== filter.transport) continue;
      if (filter.via !== undefined && r.f.v !== filter.via) continue;
      if (filter.state !== undefined && (r.online ? 'online' : 'offline') !== filter.state) continue;
      if (filter.liveness !== undefined && (r.f.lv || null) !== filter.liveness) continue;
      if (q !== null && !r.id.toLowerCase().includes(q)) continue;
      if (items.length === limit) return { items, next_cursor: lastOrder.toString(36) };
      items.push(copy(viewOfRow(r)));
      lastOrder = r.order;
    }
    return { items, next_cursor: null };
  }

  listByPrefix(host: string, transport: Transport, prefix: string): PresenceView[] {
    const out: PresenceView[] = [];
    for (const r of this.byHost.get(host) ?? []) {
      if (r.removed || r.transport !== transport) continue;
      if (r.id === prefix || r.id.startsWith(`${prefix}/`)) out.push(copy(viewOfRow(r)));
    }
    return out;
  }

  count(host: string, transport?: Transport, state?: 'online' | 'offline'): number {
    const c = this.counts.get(host);
    if (!c) return 0;
    let n = 0;
    for (const t of transport ? [transport] : (['xmpp', 'mqtt'] as const)) {
      if (state !== 'offline') n += c[t][1];
      if (state !== 'online') n += c[t][0];
    }
    return n;
  }

  /** Online rows of a host and protocol by via (a scrape of /metrics: one pass over the host's rows). */
  countByVia(host: string, transport: Transport): Record<Via, number> {
    const n: Record<Via, number> = { tcp: 0, tls: 0, ws: 0, wss: 0 };
    for (const r of this.byHost.get(host) ?? []) {
      if (r.removed || !r.online || r.transport !== transport) continue;
      const v = r.f.v as Via;
      if (v in n) n[v]++;
    }
    return n;
  }

  /** Keep the per host, transport and state counts (GET /v1/hosts reads them, O(1)). */
  private tally(r: MirrorRow, d: number): void {
    let c = this.counts.get(r.host);
    if (!c) this.counts.set(r.host, (c = { xmpp: [0, 0], mqtt: [0, 0] }));
    c[r.transport][r.online ? 1 : 0] += d;
  }

  /** Rows online on a node (tests). */
  onlineOn(node: string): number {
    let n = 0;
    for (const r of this.rows.values()) if (r.online && r.node === node) n++;
    return n;
  }

  readFeed(afterSeq: number, limit: number): FeedRead {
    const after = Math.max(0, Math.floor(afterSeq));
    const oldest = Math.max(this.first, this.last - this.feedSize + 1);
    if (after < oldest - 1 && this.last > 0) return { kind: 'gone', oldest_seq: oldest, last_seq: this.last };
    const entries: ChangeEntry[] = [];
    for (let s = after + 1; s <= this.last && entries.length < limit; s++) {
      const slot = this.ring[s % this.feedSize];
      const e = slot && slot.seq === s ? this.entryAt(slot) : null;
      if (e) entries.push(e);
    }
    return { kind: 'ok', entries, last_seq: this.last };
  }

  onChange(listener: (e: ChangeEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every served entry's seq, kind and row (the node watches takeovers of its own connections here). */
  onEntry(listener: (seq: number, kind: string, row: MirrorRow) => void): () => void {
    this.entryListeners.add(listener);
    return () => this.entryListeners.delete(listener);
  }
}
