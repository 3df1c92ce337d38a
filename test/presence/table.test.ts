import { beforeEach, describe, expect, it } from 'vitest';
import { createPresenceTable } from '../../src/presence/table.js';
import type { PresenceTable } from '../../src/presence/types.js';
import { ManualScheduler } from '../../src/time/manual.js';
import { FakeLiveness } from '../support/fake-liveness.js';

describe('presence table', () => {
  let sched: ManualScheduler;
  let live: FakeLiveness;
  let table: PresenceTable;
  const make = (opts: Partial<{ feedSize: number; offlineTtlMs: number; maxOffline: number }> = {}) =>
    createPresenceTable({
      clock: sched.clock,
      scheduler: sched,
      liveness: live,
      feedSize: opts.feedSize ?? 100,
      offlineTtlMs: opts.offlineTtlMs ?? 60_000,
      maxOffline: opts.maxOffline ?? 100,
    });

  beforeEach(() => {
    sched = new ManualScheduler();
    live = new FakeLiveness(() => sched.clock.now());
    table = make();
  });

  it('shows an MQTT client online and available from its online event, with seq 1', () => {
    const t0 = sched.clock.now();
    live.connect('localhost', 'mqtt', 'dev1');
    const row = table.get({ host: 'localhost', transport: 'mqtt', id: 'dev1' });
    expect(row).toMatchObject({ state: 'online', available: true, connected_at: t0, liveness: 'active' });
    const feed = table.readFeed(0, 10);
    expect(feed.kind).toBe('ok');
    if (feed.kind === 'ok') expect(feed.entries.map((e) => [e.seq, e.kind])).toEqual([[1, 'online']]);
  });

  it('keeps an XMPP resource connected but not available until initial presence (RFC 6121 §4.2)', () => {
    const h = live.connect('localhost', 'xmpp', 'a@localhost/r1');
    expect(table.get(h.ref)?.available).toBe(false);
    table.setAvailability(h.ref, { available: true, show: 'away', status: 'lunch', priority: 5 });
    expect(table.get(h.ref)).toMatchObject({ available: true, show: 'away', status: 'lunch', priority: 5 });
    expect(table.lastSeq()).toBe(2);
    table.setAvailability(h.ref, { available: true, show: 'away', status: 'lunch', priority: 5 });
    expect(table.lastSeq()).toBe(2);
  });

  it('records offline with reason and snapshot figures, and ignores updates from the old generation', () => {
    const h = live.connect('localhost', 'mqtt', 'dev1');
    h.activityAt = 1234;
    h.lastRttMs = 7;
    sched.advance(5_000);
    live.disconnect(h, 'keepalive_timeout');
    const row = table.get(h.ref);
    expect(row).toMatchObject({
      state: 'offline',
      available: false,
      liveness: null,
      last_disconnect_reason: 'keepalive_timeout',
      last_activity_at: 1234,
      last_rtt_ms: 7,
      disconnected_at: sched.clock.now(),
    });
    table.setAvailability(h.ref, { available: true, show: null, status: null, priority: null });
    table.setMeta(h.ref, { username: 'x' }, true);
    expect(table.get(h.ref)?.available).toBe(false);
    expect(table.get(h.ref)?.meta).toEqual({});
  });

  it('takeover keeps one continuous online endpoint: no offline entry, connected_at unchanged', () => {
    const t0 = sched.clock.now();
    const old = live.connect('localhost', 'mqtt', 'dev1');
    sched.advance(1_000);
    const next = live.connect('localhost', 'mqtt', 'dev1');
    // The old connection's late offline must not touch the new one.
    live.emit({ type: 'offline', ref: old.ref, at: 0, reason: 'taken_over' });
    const row = table.get(next.ref);
    expect(row).toMatchObject({ state: 'online', generation: next.ref.generation, connected_at: t0 });
    const feed = table.readFeed(0, 10);
    if (feed.kind !== 'ok') throw new Error('gone');
    expect(feed.entries.map((e) => [e.kind, e.takeover])).toEqual([
      ['online', false],
      ['online', true],
    ]);
    expect(table.count('localhost', 'mqtt', 'online')).toBe(1);
  });

  it('announces only notable liveness changes (unresponsive, paused, and recovery)', () => {
    const h = live.connect('localhost', 'xmpp', 'a@localhost/r');
    live.setState(h, 'probing');
    live.setState(h, 'active');
    expect(table.lastSeq()).toBe(1);
    live.setState(h, 'probing');
    live.setState(h, 'unresponsive');
    live.setState(h, 'active');
    const feed = table.readFeed(1, 10);
    if (feed.kind !== 'ok') throw new Error('gone');
    expect(feed.entries.map((e) => [e.kind, e.row.liveness])).toEqual([
      ['liveness', 'unresponsive'],
      ['liveness', 'active'],
    ]);
  });


  it('announces resumable with resumable_until (XEP-0198) and the resume back to active, one online row throughout', () => {
    const h = live.connect('localhost', 'xmpp', 'a@localhost/phone');
    h.deadlineAt = 300_000;
    live.setState(h, 'resumable');
    expect(table.get(h.ref)).toMatchObject({ state: 'online', liveness: 'resumable', next_deadline_at: 300_000, resumable_until: 300_000 });
    h.deadlineAt = 60_000;
    live.setState(h, 'active');
    expect(table.get(h.ref)).toMatchObject({ liveness: 'active', resumable_until: null });
    const feed = table.readFeed(1, 10);
    if (feed.kind !== 'ok') throw new Error('gone');
    expect(feed.entries.map((e) => [e.kind, e.row.liveness, e.row.resumable_until])).toEqual([
      ['liveness', 'resumable', 300_000],
      ['liveness', 'active', null],
    ]);
  });
  it('pages in creation order with a cursor and filters', () => {
    for (let i = 0; i < 25; i++) live.connect('h', i % 2 ? 'mqtt' : 'xmpp', `c${i}`);
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page = table.list('h', {}, 10, cursor);
      ids.push(...page.items.map((r) => r.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(ids).toEqual(Array.from({ length: 25 }, (_, i) => `c${i}`));
    const mqtt = table.list('h', { transport: 'mqtt' }, 100, null);
    expect(mqtt.items).toHaveLength(12);
    expect(mqtt.next_cursor).toBeNull();
    expect(table.list('nohost', {}, 10, null)).toEqual({ items: [], next_cursor: null });
  });

  it('lists the resources of a bare JID', () => {
    live.connect('h', 'xmpp', 'a@h/one');
    live.connect('h', 'xmpp', 'a@h/two');
    live.connect('h', 'xmpp', 'ab@h/x');
    expect(table.listByPrefix('h', 'xmpp', 'a@h').map((r) => r.id)).toEqual(['a@h/one', 'a@h/two']);
    expect(table.listByPrefix('h', 'xmpp', 'a@h/two').map((r) => r.id)).toEqual(['a@h/two']);
  });

  it('finds a bare id tracked alone with its resources, and forgets removed ones (one, many, none left)', () => {
    const bare = live.connect('h', 'xmpp', 'a@h');
    const one = live.connect('h', 'xmpp', 'a@h/one');
    const two = live.connect('h', 'xmpp', 'a@h/two');
    const ids = () => table.listByPrefix('h', 'xmpp', 'a@h').map((r) => `${r.id} ${r.state}`);
    expect(ids()).toEqual(['a@h online', 'a@h/one online', 'a@h/two online']);
    table.stop();
    table = make({ maxOffline: 0 }); // offline rows are dropped at once
    const bare2 = live.connect('h', 'xmpp', 'a@h');
    const one2 = live.connect('h', 'xmpp', 'a@h/one');
    const two2 = live.connect('h', 'xmpp', 'a@h/two');
    expect([bare, one, two].every((x) => !x.live)).toBe(true);
    live.disconnect(one2, 'client_close');
    expect(ids()).toEqual(['a@h online', 'a@h/two online']);
    live.disconnect(two2, 'client_close');
    expect(ids()).toEqual(['a@h online']);
    live.disconnect(bare2, 'client_close');
    expect(ids()).toEqual([]);
    live.connect('h', 'xmpp', 'a@h/three');
    expect(ids()).toEqual(['a@h/three online']);
  });

  it('merges a transport figures source into online rows of that transport (own provider wins), and keeps its last values offline', () => {
    let inflight = 1;
    table.setFiguresSource('mqtt', (host, id) => ({ src: `${host} ${id}`, inflight }));
    const a = live.connect('h', 'mqtt', 'a');
    const b = live.connect('h', 'mqtt', 'b');
    const x = live.connect('h', 'xmpp', 'x@h/r');
    table.setMeta(a.ref, { username: 'u' });
    table.setFigures(b.ref, () => ({ own: true }));
    expect(table.get(a.ref)?.meta).toEqual({ username: 'u', src: 'h a', inflight: 1 });
    expect(table.get(b.ref)?.meta).toEqual({ own: true });
    expect(table.get(x.ref)?.meta).toEqual({});
    table.setMeta(a.ref, { ip: '1.2.3.4' }, true);
    inflight = 2;
    live.disconnect(a, 'client_close');
    inflight = 3;
    expect(table.get(a.ref)?.meta).toEqual({ username: 'u', ip: '1.2.3.4', src: 'h a', inflight: 2 });
    const feed = table.readFeed(0, 10);
    if (feed.kind !== 'ok') throw new Error('gone');
    // online entries are written before the adapter sets meta or figures up: neither is in them.
    expect(feed.entries.map((e) => [e.kind, e.id, e.row.meta])).toEqual([
      ['online', 'a', {}],
      ['online', 'b', {}],
      ['online', 'x@h/r', {}],
      ['meta', 'a', { username: 'u', ip: '1.2.3.4', src: 'h a', inflight: 1 }],
      ['offline', 'a', { username: 'u', ip: '1.2.3.4', src: 'h a', inflight: 2 }],
    ]);
    table.setFiguresSource('mqtt', null);
    expect(table.get(b.ref)?.meta).toEqual({ own: true });
    expect(table.get(live.connect('h', 'mqtt', 'c').ref)?.meta).toEqual({});
  });

  it('rows with equal meta may share it, and a change to one leaves the others alone', () => {
    const a = live.connect('h', 'mqtt', 'a');
    const b = live.connect('h', 'mqtt', 'b');
    const given = { username: 'fleet', ip: '10.0.0.1' };
    table.setMeta(a.ref, given);
    table.setMeta(b.ref, { username: 'fleet', ip: '10.0.0.1' });
    given.username = 'changed by the caller afterwards';
    table.setMeta(a.ref, { keepalive: 60 });
    expect(table.get(a.ref)?.meta).toEqual({ username: 'fleet', ip: '10.0.0.1', keepalive: 60 });
    expect(table.get(b.ref)?.meta).toEqual({ username: 'fleet', ip: '10.0.0.1' });
    table.setMeta(b.ref, { ip: '10.0.0.2' });
    expect(table.get(b.ref)?.meta).toEqual({ username: 'fleet', ip: '10.0.0.2' });
    expect(table.get(a.ref)?.meta).toEqual({ username: 'fleet', ip: '10.0.0.1', keepalive: 60 });
  });

  it('indexes MQTT client ids with and without slashes (one map entry per plain id)', () => {
    live.connect('h', 'mqtt', 'sensors/1');
    live.connect('h', 'mqtt', 'sensors/2');
    live.connect('h', 'mqtt', 'sensors');
    live.connect('h', 'mqtt', 'sensorsX');
    expect(table.listByPrefix('h', 'mqtt', 'sensors').map((r) => r.id)).toEqual(['sensors/1', 'sensors/2', 'sensors']);
    expect(table.listByPrefix('h', 'mqtt', 'sensors/2').map((r) => r.id)).toEqual(['sensors/2']);
    expect(table.listByPrefix('h', 'xmpp', 'sensors')).toEqual([]);
    expect(table.get({ host: 'h', transport: 'mqtt', id: 'sensors/2' })?.state).toBe('online');
    expect(table.count('h', 'mqtt', 'online')).toBe(4);
    expect(table.count('h')).toBe(4);
  });

  it('expires offline rows after the TTL and keeps at most maxOffline', () => {
    table.stop();
    table = make({ offlineTtlMs: 10_000, maxOffline: 2 });
    const hs = ['a', 'b', 'c'].map((id) => live.connect('h', 'mqtt', id));
    for (const h of hs) live.disconnect(h, 'client_close');
    expect(table.get({ host: 'h', transport: 'mqtt', id: 'a' })).toBeUndefined();
    expect(table.count('h', 'mqtt', 'offline')).toBe(2);
    sched.advance(20_000);
    expect(table.count('h', 'mqtt')).toBe(0);
    expect(table.list('h', {}, 10, null).items).toEqual([]);
  });

  it('tells a reader too far behind the bounded feed that it must re-snapshot', () => {
    table.stop();
    table = make({ feedSize: 16 });
    for (let i = 0; i < 40; i++) live.connect('h', 'mqtt', `c${i}`);
    expect(table.readFeed(3, 10)).toEqual({ kind: 'gone', oldest_seq: 25, last_seq: 40 });
    const ok = table.readFeed(24, 100);
    expect(ok.kind === 'ok' && ok.entries.map((e) => e.seq)).toEqual(Array.from({ length: 16 }, (_, i) => 25 + i));
  });

  it('merges figures into meta on read and snapshots them when going offline', () => {
    const h = live.connect('h', 'mqtt', 'c');
    let inflight = 3;
    table.setMeta(h.ref, { username: 'u' });
    table.setFigures(h.ref, () => ({ inflight }));
    expect(table.get(h.ref)?.meta).toEqual({ username: 'u', inflight: 3 });
    inflight = 4;
    live.disconnect(h, 'client_close');
    inflight = 9;
    expect(table.get(h.ref)?.meta).toEqual({ username: 'u', inflight: 4 });
  });
});
