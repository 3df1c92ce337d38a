/**
 * The compact change feed (src/presence/feed.ts) through the presence table: entries are
 * snapshots of the row at the change (not its later state), the ring wraps and answers `gone`
 * below the oldest kept entry, its column chunks fill across boundaries, and listeners get the
 * same entries readers do.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createPresenceTable } from '../../src/presence/table.js';
import type { ChangeEntry, PresenceTable } from '../../src/presence/types.js';
import { ManualScheduler } from '../../src/time/manual.js';
import { FakeLiveness } from '../support/fake-liveness.js';

const H = 'localhost';

describe('presence change feed', () => {
  let sched: ManualScheduler;
  let live: FakeLiveness;
  const make = (feedSize: number): PresenceTable =>
    createPresenceTable({ clock: sched.clock, scheduler: sched, liveness: live, feedSize, offlineTtlMs: 60_000, maxOffline: 100_000 });

  beforeEach(() => {
    sched = new ManualScheduler();
    live = new FakeLiveness(() => sched.clock.now());
  });

  const ok = (t: PresenceTable, after: number, limit = 1_000_000): ChangeEntry[] => {
    const r = t.readFeed(after, limit);
    if (r.kind !== 'ok') throw new Error(`gone: ${JSON.stringify(r)}`);
    return r.entries;
  };

  it('keeps each entry as the row was right after the change', () => {
    const t = make(100);
    const t0 = sched.clock.now();
    const h = live.connect(H, 'mqtt', 'dev1');
    h.activityAt = t0;
    h.deadlineAt = t0 + 900_000;
    t.setMeta(h.ref, { username: 'u', keepalive: 600 });
    sched.advance(1_000);
    t.setMeta(h.ref, { ip: '10.0.0.1' }, true);
    t.setFigures(h.ref, () => ({ inflight: 3 }));
    sched.advance(1_000);
    h.lastRttMs = 12;
    live.disconnect(h, 'keepalive_timeout');
    const [online, meta, offline] = ok(t, 0);
    expect(online).toEqual({
      seq: 1,
      at: t0,
      kind: 'online',
      host: H,
      transport: 'mqtt',
      source: 'local',
      id: 'dev1',
      generation: h.ref.generation,
      takeover: false,
      row: {
        host: H,
        transport: 'mqtt',
        source: 'local',
        id: 'dev1',
        generation: h.ref.generation,
        state: 'online',
        available: true,
        show: null,
        status: null,
        priority: null,
        liveness: 'active',
        connected_at: t0,
        disconnected_at: null,
        last_activity_at: 0, // the fake handle's figures when the event came; set only afterwards
        next_deadline_at: null,
        resumable_until: null,
        last_rtt_ms: null,
        last_disconnect_reason: null,
        meta: {},
      },
    });
    expect(meta).toMatchObject({
      seq: 2,
      kind: 'meta',
      row: { state: 'online', last_activity_at: t0, next_deadline_at: t0 + 900_000, meta: { username: 'u', keepalive: 600, ip: '10.0.0.1' } },
    });
    expect(meta).not.toHaveProperty('reason');
    expect(meta).not.toHaveProperty('takeover');
    expect(offline).toMatchObject({
      seq: 3,
      kind: 'offline',
      reason: 'keepalive_timeout',
      row: {
        state: 'offline',
        available: false,
        liveness: null,
        disconnected_at: t0 + 2_000,
        last_activity_at: t0,
        last_rtt_ms: 12,
        next_deadline_at: null,
        resumable_until: null,
        last_disconnect_reason: 'keepalive_timeout',
        meta: { username: 'u', keepalive: 600, ip: '10.0.0.1', inflight: 3 },
      },
    });
    // A reader's copy is its own: changing it changes nothing kept.
    (ok(t, 0)[1]!.row.meta as Record<string, unknown>).username = 'changed';
    expect(ok(t, 0)[1]!.row.meta.username).toBe('u');
  });

  it('keeps XMPP availability, takeover and last reason as they were at each change', () => {
    const t = make(100);
    const a = live.connect(H, 'xmpp', 'a@h/r');
    t.setAvailability(a.ref, { available: true, show: 'away', status: 'lunch', priority: -5 });
    t.setAvailability(a.ref, { available: true, show: null, status: null, priority: null });
    const b = live.connect(H, 'xmpp', 'a@h/r'); // resource conflict: takeover
    live.disconnect(b, 'client_close');
    live.connect(H, 'xmpp', 'a@h/r');
    const e = ok(t, 0);
    expect(e.map((x) => [x.kind, x.row.show, x.row.status, x.row.priority, x.row.available])).toEqual([
      ['online', null, null, null, false],
      ['availability', 'away', 'lunch', -5, true],
      ['availability', null, null, null, true],
      ['online', null, null, null, false],
      ['offline', null, null, null, false],
      ['online', null, null, null, false],
    ]);
    expect(e.map((x) => x.takeover)).toEqual([false, undefined, undefined, true, undefined, false]);
    expect(e.map((x) => x.row.last_disconnect_reason)).toEqual([null, null, null, null, 'client_close', 'client_close']);
    expect(e[3]!.generation).toBe(b.ref.generation);
    expect(e[0]!.generation).toBe(a.ref.generation);
  });

  it('wraps around: keeps the last feed_size entries in order and answers gone below them', () => {
    const t = make(16);
    for (let i = 0; i < 40; i++) live.connect(H, 'mqtt', `c${i}`);
    expect(t.lastSeq()).toBe(40);
    expect(t.readFeed(3, 10)).toEqual({ kind: 'gone', oldest_seq: 25, last_seq: 40 });
    expect(t.readFeed(23, 10).kind).toBe('gone');
    const kept = ok(t, 24);
    expect(kept.map((e) => e.seq)).toEqual(Array.from({ length: 16 }, (_, i) => 25 + i));
    expect(kept.map((e) => e.id)).toEqual(Array.from({ length: 16 }, (_, i) => `c${24 + i}`));
    expect(ok(t, 38, 5).map((e) => e.seq)).toEqual([39, 40]);
    expect(ok(t, 40)).toEqual([]);
  });

  it('an empty feed is never gone', () => {
    const t = make(16);
    expect(t.readFeed(0, 10)).toEqual({ kind: 'ok', entries: [], last_seq: 0 });
    expect(t.lastSeq()).toBe(0);
  });

  it('fills its column chunks across chunk boundaries and wraps a feed larger than one chunk', () => {
    const t = make(10_000);
    for (let i = 0; i < 23_456; i++) live.connect(H, 'mqtt', `d${i}`);
    expect(t.readFeed(13_455, 1)).toEqual({ kind: 'gone', oldest_seq: 13_457, last_seq: 23_456 });
    const all = ok(t, 13_456);
    expect(all.length).toBe(10_000);
    all.forEach((e, i) => {
      expect(e.seq).toBe(13_457 + i);
      expect(e.id).toBe(`d${13_456 + i}`);
    });
  });

  it('tells listeners each change with the entry a reader gets', () => {
    const t = make(100);
    const seen: ChangeEntry[] = [];
    const off = t.onChange((e) => seen.push(e));
    const h = live.connect(H, 'mqtt', 'x');
    live.disconnect(h, 'client_close');
    off();
    live.connect(H, 'mqtt', 'y');
    expect(seen).toEqual(ok(t, 0, 2));
    expect(seen.map((e) => e.kind)).toEqual(['online', 'offline']);
  });
});
