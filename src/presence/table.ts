/**
 * The presence table (see types.ts). It subscribes to the liveness registry for online / offline /
 * liveness changes and takes availability and metadata from protocol adapters. Generation checks
 * make a late update from an old connection harmless. Offline rows are kept for `offlineTtlMs`
 * (at most `maxOffline`, oldest evicted first) so operators see the last disconnect reason.
 */
import type {
  DisconnectReason,
  EndpointRef,
  LivenessEvent,
  LivenessRegistry,
  LivenessState,
  Transport,
  Via,
} from '../liveness/types.js';
import type { Clock } from '../time/clock.js';
import type { Scheduler, TimerHandle } from '../time/scheduler.js';
import { ChangeFeed } from './feed.js';
import { HostRows, type Rows, bareOf } from './host-rows.js';
import { type IngestCore, type PresenceIngest, ingestRows } from './ingest-rows.js';
import { EMPTY_META, Row, sameMeta, viewOf } from './row.js';
import { type ChangeKind, type FiguresSource, LOCAL_SOURCE, type Meta, type PresenceTable, type PresenceView } from './types.js';

export interface PresenceTableDeps {
  clock: Clock;
  scheduler: Scheduler;
  liveness: LivenessRegistry;
  feedSize: number;
  offlineTtlMs: number;
  maxOffline: number;
}

/** Liveness states worth a feed entry; active <-> probing flips every ping cycle and is not announced. */
const NOTABLE: ReadonlySet<LivenessState> = new Set(['unresponsive', 'paused', 'resumable']);

export function createPresenceTable(deps: PresenceTableDeps): PresenceTable & PresenceIngest {
  const { clock, scheduler, liveness } = deps;
  const hosts = new Map<string, HostRows>();
  /** Rows in the order they went offline (oldest first) for TTL and max eviction. */
  const offline = new Set<Row>();
  const feed = new ChangeFeed(deps.feedSize);
  let order = 0;
  let sweepTimer: TimerHandle | null = null;
  const epoch = clock.now();
  const sources: Record<Transport, FiguresSource | null> = { xmpp: null, mqtt: null };

  /**
   * Meta with the current figures merged in (a new object when there are figures). The `online`
   * feed entry leaves the transport's source out: the adapter sets meta and figures up only after
   * the endpoint is tracked, so that entry never had either (and it is the one written per connect).
   */
  function metaOf(r: Row, kind: ChangeKind | null = null): Meta {
    const own = r.figures;
    if (own) return { ...r.meta, ...own() };
    const source = r.online && kind !== 'online' && r.source === LOCAL_SOURCE ? sources[r.transport] : null;
    return source ? { ...r.meta, ...source(r.host, r.id) } : r.meta;
  }

  const view = (r: Row): PresenceView => viewOf(r, metaOf(r));
  /** The meta object setMeta made last, shared by the next row whose meta equals it. */
  let lastMeta: Meta = EMPTY_META;

  /**
   * `meta` as a row keeps it: a new object (the feed may hold the old one), or the last one made
   * when it is equal: meta objects are never written into, so rows with the same meta (one fleet,
   * one gateway) share one. A first meta is a plain copy: V8 clones the caller's literal with its
   * properties in the object, where a merge would spill them to a side array. `ours`: a merge the
   * table just made, kept as it is.
   */
  function shared(meta: Meta, ours = false): Meta {
    if (sameMeta(meta, lastMeta)) return lastMeta;
    return (lastMeta = ours ? meta : { ...meta });
  }

  const rowsOf = (host: string, transport: Transport, source = LOCAL_SOURCE): Rows | undefined => hosts.get(host)?.rows(transport, source);

  function hostRows(host: string): HostRows {
    let h = hosts.get(host);
    if (!h) hosts.set(host, (h = new HostRows(host, epoch)));
    return h;
  }

  function emit(kind: ChangeKind, r: Row, reason: DisconnectReason | null = null, takeover: boolean | null = null): void {
    const h = r.handle;
    feed.push({
      at: clock.now(),
      kind,
      row: r,
      generation: r.generation,
      online: r.online,
      available: r.available,
      show: r.show,
      status: r.status,
      priority: r.priority,
      liveness: h ? h.state : null,
      lastActivityAt: r.lastActivityAt(),
      nextDeadlineAt: h ? h.nextDeadlineAt() : null,
      lastRttMs: r.lastRttMs(),
      lastReason: r.lastReason,
      meta: metaOf(r, kind),
      reason,
      takeover,
    });
  }

  function removeRow(r: Row): void {
    if (r.removed) return;
    r.markRemoved();
    const h = hostRows(r.host);
    const rows = h.rows(r.transport, r.source, true)!;
    if (rows.byId.get(r.id) === r) rows.delete(r);
    offline.delete(r);
    rows.count(r, -1);
    h.index.markRemoved();
  }

  function onOnline(ref: EndpointRef, takeover: boolean, meta: Meta | null): void {
    const handle = liveness.get(ref);
    if (!handle || handle.ref.generation !== ref.generation) return;
    const h = hostRows(ref.host);
    const rows = h[ref.transport];
    const existing = rows.byId.get(ref.id);
    if (existing && existing.online) {
      // Takeover / resource conflict: one continuous online endpoint, never offline -> online.
      rows.count(existing, -1);
      existing.via = handle.via;
      rows.count(existing, 1);
      existing.generation = ref.generation;
      existing.handle = handle;
      existing.available = ref.transport === 'mqtt';
      existing.detail = null;
      existing.announcedLiveness = null;
      if (meta) existing.meta = shared(meta);
      emit('online', existing, null, true);
      return;
    }
    const r = addRow(h, rows, ref.id, ref.generation, clock.now(), handle, handle.via);
    // Who it is, in its first record: the adapter's fields come with the `online` event.
    if (meta) r.meta = shared(meta);
    emit('online', r, null, takeover);
  }

  /** A new online row in place of `rows`' offline one of that id, if any (not announced). */
  function addRow(h: HostRows, rows: Rows, id: string, generation: number, connectedAt: number, live: Row['handle'], via: Via | null = null): Row {
    const existing = rows.byId.get(id);
    if (existing) removeRow(existing);
    const r = new Row(rows.home, id, generation, ++order, connectedAt, live, existing?.lastReason ?? null, via);
    rows.add(r);
    h.index.append(r);
    rows.count(r, 1);
    return r;
  }

  function onOffline(ref: EndpointRef, reason: DisconnectReason): void {
    const rows = rowsOf(ref.host, ref.transport);
    const r = rows?.byId.get(ref.id);
    if (!rows || !r || r.generation !== ref.generation || !r.online) return;
    retire(rows, r, reason);
  }

  /** Take an online row offline with `reason`, announce it and keep it as an offline row. */
  function retire(rows: Rows, r: Row, reason: DisconnectReason): void {
    rows.count(r, -1);
    r.end(clock.now(), reason, metaOf(r));
    rows.count(r, 1);
    emit('offline', r, reason);
    offline.add(r);
    while (offline.size > deps.maxOffline) {
      const oldest = offline.values().next().value as Row;
      removeRow(oldest);
    }
  }

  function onState(ref: EndpointRef, state: LivenessState): void {
    const r = current(ref);
    if (!r) return;
    const was = r.announcedLiveness;
    // XEP-0198: a session resumed on another connection may be on another transport now (issue 14).
    if (was === 'resumable' && state !== 'resumable') {
      const via = liveness.get(ref)?.via ?? null;
      const rows = rowsOf(ref.host, ref.transport);
      if (via !== null && via !== r.via && rows) {
        rows.count(r, -1);
        r.via = via;
        rows.count(r, 1);
      }
    }
    if (!NOTABLE.has(state) && (was === null || !NOTABLE.has(was))) return;
    r.announcedLiveness = state;
    emit('liveness', r);
  }

  function onEvent(e: LivenessEvent): void {
    switch (e.type) {
      case 'online':
        return onOnline(e.ref, e.takeover, e.meta);
      case 'offline':
        return onOffline(e.ref, e.reason);
      case 'state':
        return onState(e.ref, e.state);
      default:
        return;
    }
  }

  function current(ref: EndpointRef): Row | undefined {
    const r = rowsOf(ref.host, ref.transport)?.byId.get(ref.id);
    return r && r.generation === ref.generation && r.online ? r : undefined;
  }

  function sweep(): void {
    const cutoff = clock.now() - deps.offlineTtlMs;
    for (const r of offline) {
      if ((r.disconnectedAt ?? 0) > cutoff) break;
      removeRow(r);
    }
  }

  function armSweep(): void {
    const every = Math.min(60_000, Math.max(1_000, Math.floor(deps.offlineTtlMs / 4)));
    sweepTimer = scheduler.setTimer(every, () => {
      sweep();
      armSweep();
    });
  }

  const unsubscribe = liveness.subscribe(onEvent);
  armSweep();

  const core: IngestCore = {
    row: (k) => rowsOf(k.host, k.transport, k.source)?.byId.get(k.id),
    add(k, generation, connectedAt, live) {
      const h = hostRows(k.host);
      return addRow(h, h.rows(k.transport, k.source, true)!, k.id, generation, connectedAt, live);
    },
    emit: (kind, r, takeover) => emit(kind, r, null, takeover ?? null),
    retire: (r, reason) => retire(rowsOf(r.host, r.transport, r.source)!, r, reason),
    *online(source) {
      for (const h of hosts.values()) {
        for (const t of ['xmpp', 'mqtt'] as const) for (const r of h.rows(t, source)?.byId.values() ?? []) if (r.online) yield r;
      }
    },
  };

  const decodeCursor = (c: string | null): number => {
    if (!c) return 0;
    const n = Number.parseInt(c, 36);
    return Number.isFinite(n) && n >= 0 ? n : 0;
  };

  return {
    ...ingestRows(core),
    get(key) {
      const r = rowsOf(key.host, key.transport, key.source)?.byId.get(key.id);
      return r && view(r);
    },
    list(host, filter, limit, cursor) {
      const idx = hosts.get(host)?.index;
      if (!idx) return { items: [], next_cursor: null };
      const needle = filter.q === undefined ? null : new RegExp(filter.q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
      const keep = (r: Row) =>
        (filter.transport === undefined || r.transport === filter.transport) &&
        (filter.source === undefined || r.source === filter.source) &&
        (filter.via === undefined || r.via === filter.via) &&
        (filter.state === undefined || r.state === filter.state) &&
        (filter.liveness === undefined || (r.handle?.state ?? null) === filter.liveness) &&
        (needle === null || needle.test(r.id));
      const { rows: page, more } = idx.page(decodeCursor(cursor), limit, keep);
      const last = page[page.length - 1];
      return { items: page.map(view), next_cursor: more && last ? last.order.toString(36) : null };
    },
    listByPrefix(host, transport, prefix, source) {
      const rows = rowsOf(host, transport, source);
      if (!rows) return [];
      return rows.ofBare(bareOf(prefix)).filter((r) => r.id === prefix || r.id.startsWith(`${prefix}/`)).sort((a, b) => a.order - b.order).map(view);
    },
    count(host, transport, state, source = LOCAL_SOURCE) {
      const h = hosts.get(host);
      if (!h) return 0;
      let n = 0;
      for (const t of transport ? [transport] : (['xmpp', 'mqtt'] as const)) {
        const rows = h.rows(t, source);
        if (!rows) continue;
        if (state !== 'offline') n += rows.online;
        if (state !== 'online') n += rows.offline;
      }
      return n;
    },
    countByVia(host, transport) {
      const n = hosts.get(host)?.rows(transport, LOCAL_SOURCE)?.onlineVia ?? [0, 0, 0, 0, 0];
      return { tcp: n[1]!, tls: n[2]!, ws: n[3]!, wss: n[4]! };
    },
    setAvailability(ref, a) {
      const r = current(ref);
      if (!r) return;
      if (r.available === a.available && r.show === a.show && r.status === a.status && r.priority === a.priority) return;
      r.available = a.available;
      r.detail = a.show === null && a.status === null && a.priority === null ? null : { show: a.show, status: a.status, priority: a.priority };
      emit('availability', r);
    },
    setMeta(ref, meta, announce = false) {
      const r = current(ref);
      if (!r) return;
      r.meta = r.meta === EMPTY_META ? shared(meta) : shared({ ...r.meta, ...meta }, true);
      if (announce) emit('meta', r);
    },
    setFigures(ref, provider) {
      const r = current(ref);
      if (r) r.figures = provider;
    },
    setFiguresSource(transport, source) {
      sources[transport] = source;
    },
    readFeed: (after, limit) => feed.read(after, limit),
    lastSeq: () => feed.lastSeq(),
    onChange: (l) => feed.onChange(l),
    sweep,
    stop() {
      unsubscribe();
      sweepTimer?.cancel();
      sweepTimer = null;
    },
  };
}
