/**
 * The presence table (see types.ts). It subscribes to the liveness registry for online / offline /
 * liveness changes and takes availability and metadata from protocol adapters. Generation checks
 * make a late update from an old connection harmless. Offline rows are kept for `offlineTtlMs`
 * (at most `maxOffline`, oldest evicted first) so operators see the last disconnect reason.
 */
import type {
  DisconnectReason,
  EndpointKey,
  EndpointRef,
  LivenessEvent,
  LivenessRegistry,
  LivenessState,
  Transport,
} from '../liveness/types.js';
import type { Clock } from '../time/clock.js';
import type { Scheduler, TimerHandle } from '../time/scheduler.js';
import { ChangeFeed } from './feed.js';
import { HostIndex } from './host-index.js';
import { type Row, rowKey, viewOf } from './row.js';
import type { ChangeEntry, ChangeKind, PresenceTable, PresenceView } from './types.js';

export interface PresenceTableDeps {
  clock: Clock;
  scheduler: Scheduler;
  liveness: LivenessRegistry;
  feedSize: number;
  offlineTtlMs: number;
  maxOffline: number;
}

/** Liveness states worth a feed entry; active <-> probing flips every ping cycle and is not announced. */
const NOTABLE: ReadonlySet<LivenessState> = new Set(['unresponsive', 'paused']);

const bareOf = (id: string) => {
  const slash = id.indexOf('/');
  return slash < 0 ? id : id.slice(0, slash);
};

export function createPresenceTable(deps: PresenceTableDeps): PresenceTable {
  const { clock, scheduler, liveness } = deps;
  const rows = new Map<string, Row>();
  const hosts = new Map<string, HostIndex>();
  /** key -> row, in the order rows went offline (oldest first) for TTL and max eviction. */
  const offline = new Map<string, Row>();
  /** host\0transport\0bare -> rows (XMPP resources of one bare JID). */
  const byBare = new Map<string, Set<Row>>();
  const counts = new Map<string, number>();
  const feed = new ChangeFeed(deps.feedSize);
  let order = 0;
  let sweepTimer: TimerHandle | null = null;

  const countKey = (host: string, transport: Transport, state: 'online' | 'offline') => `${host}\u0000${transport}\u0000${state}`;
  const bump = (r: Row, delta: number) => {
    const k = countKey(r.host, r.transport, r.state);
    counts.set(k, (counts.get(k) ?? 0) + delta);
  };

  function emit(kind: ChangeKind, r: Row, extra: { reason?: DisconnectReason; takeover?: boolean } = {}): void {
    const entry: ChangeEntry = {
      seq: feed.nextSeq(),
      at: clock.now(),
      kind,
      host: r.host,
      transport: r.transport,
      id: r.id,
      generation: r.generation,
      row: viewOf(r),
      ...extra,
    };
    feed.push(entry);
  }

  function hostIndex(host: string): HostIndex {
    let h = hosts.get(host);
    if (!h) hosts.set(host, (h = new HostIndex()));
    return h;
  }

  function bareSet(r: Row, add: boolean): void {
    const k = `${r.host}\u0000${r.transport}\u0000${bareOf(r.id)}`;
    let s = byBare.get(k);
    if (add) {
      if (!s) byBare.set(k, (s = new Set()));
      s.add(r);
    } else if (s) {
      s.delete(r);
      if (s.size === 0) byBare.delete(k);
    }
  }

  function removeRow(r: Row): void {
    if (r.removed) return;
    r.removed = true;
    rows.delete(r.key);
    offline.delete(r.key);
    bareSet(r, false);
    bump(r, -1);
    hostIndex(r.host).markRemoved();
  }

  function onOnline(ref: EndpointRef, takeover: boolean): void {
    const handle = liveness.get(ref);
    if (!handle || handle.ref.generation !== ref.generation) return;
    const key = rowKey(ref.host, ref.transport, ref.id);
    const existing = rows.get(key);
    const now = clock.now();
    if (existing && existing.state === 'online') {
      // Takeover / resource conflict: one continuous online endpoint, never offline -> online.
      existing.generation = ref.generation;
      existing.handle = handle;
      existing.available = ref.transport === 'mqtt';
      existing.show = existing.status = existing.priority = null;
      existing.announcedLiveness = null;
      emit('online', existing, { takeover: true });
      return;
    }
    if (existing) removeRow(existing);
    const r: Row = {
      key,
      host: ref.host,
      transport: ref.transport,
      id: ref.id,
      generation: ref.generation,
      order: ++order,
      removed: false,
      state: 'online',
      available: ref.transport === 'mqtt',
      show: null,
      status: null,
      priority: null,
      connectedAt: now,
      disconnectedAt: null,
      lastReason: existing?.lastReason ?? null,
      handle,
      lastActivityAt: now,
      lastRttMs: null,
      announcedLiveness: null,
      meta: {},
      figures: null,
    };
    rows.set(key, r);
    hostIndex(ref.host).append(r);
    bareSet(r, true);
    bump(r, 1);
    emit('online', r, { takeover });
  }

  function onOffline(ref: EndpointRef, reason: DisconnectReason): void {
    const r = rows.get(rowKey(ref.host, ref.transport, ref.id));
    if (!r || r.generation !== ref.generation || r.state !== 'online') return;
    if (r.handle) {
      r.lastActivityAt = r.handle.lastActivityAt();
      r.lastRttMs = r.handle.lastRttMs;
    }
    if (r.figures) r.meta = { ...r.meta, ...r.figures() };
    bump(r, -1);
    r.state = 'offline';
    bump(r, 1);
    r.handle = null;
    r.figures = null;
    r.available = false;
    r.show = r.status = r.priority = null;
    r.disconnectedAt = clock.now();
    r.lastReason = reason;
    emit('offline', r, { reason });
    offline.set(r.key, r);
    while (offline.size > deps.maxOffline) {
      const oldest = offline.values().next().value as Row;
      removeRow(oldest);
    }
  }

  function onState(ref: EndpointRef, state: LivenessState): void {
    const r = current(ref);
    if (!r) return;
    const was = r.announcedLiveness;
    if (!NOTABLE.has(state) && (was === null || !NOTABLE.has(was))) return;
    r.announcedLiveness = state;
    emit('liveness', r);
  }

  function onEvent(e: LivenessEvent): void {
    switch (e.type) {
      case 'online':
        return onOnline(e.ref, e.takeover);
      case 'offline':
        return onOffline(e.ref, e.reason);
      case 'state':
        return onState(e.ref, e.state);
      default:
        return;
    }
  }

  function current(ref: EndpointRef): Row | undefined {
    const r = rows.get(rowKey(ref.host, ref.transport, ref.id));
    return r && r.generation === ref.generation && r.state === 'online' ? r : undefined;
  }

  function sweep(): void {
    const cutoff = clock.now() - deps.offlineTtlMs;
    for (const r of offline.values()) {
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

  const decodeCursor = (c: string | null): number => {
    if (!c) return 0;
    const n = Number.parseInt(c, 36);
    return Number.isFinite(n) && n >= 0 ? n : 0;
  };

  return {
    get(key: EndpointKey): PresenceView | undefined {
      const r = rows.get(rowKey(key.host, key.transport, key.id));
      return r && viewOf(r);
    },
    list(host, filter, limit, cursor) {
      const idx = hosts.get(host);
      if (!idx) return { items: [], next_cursor: null };
      const keep = (r: Row) =>
        (filter.transport === undefined || r.transport === filter.transport) &&
        (filter.state === undefined || r.state === filter.state) &&
        (filter.liveness === undefined || (r.handle?.state ?? null) === filter.liveness);
      const { rows: page, more } = idx.page(decodeCursor(cursor), limit, keep);
      const last = page[page.length - 1];
      return { items: page.map(viewOf), next_cursor: more && last ? last.order.toString(36) : null };
    },
    listByPrefix(host, transport, prefix) {
      const s = byBare.get(`${host}\u0000${transport}\u0000${bareOf(prefix)}`);
      if (!s) return [];
      return [...s].filter((r) => r.id === prefix || r.id.startsWith(`${prefix}/`)).sort((a, b) => a.order - b.order).map(viewOf);
    },
    count(host, transport, state) {
      let n = 0;
      for (const t of transport ? [transport] : (['xmpp', 'mqtt'] as const)) {
        for (const s of state ? [state] : (['online', 'offline'] as const)) n += counts.get(countKey(host, t, s)) ?? 0;
      }
      return n;
    },
    setAvailability(ref, a) {
      const r = current(ref);
      if (!r) return;
      if (r.available === a.available && r.show === a.show && r.status === a.status && r.priority === a.priority) return;
      r.available = a.available;
      r.show = a.show;
      r.status = a.status;
      r.priority = a.priority;
      emit('availability', r);
    },
    setMeta(ref, meta, announce = false) {
      const r = current(ref);
      if (!r) return;
      Object.assign(r.meta, meta);
      if (announce) emit('meta', r);
    },
    setFigures(ref, provider) {
      const r = current(ref);
      if (r) r.figures = provider;
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
