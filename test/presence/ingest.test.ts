/** PresenceIngest on the in-memory table: gateway rows with their source, own id namespace, feed entries. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { SourcedKey } from '../../src/presence/ingest.js';
import { createPresenceTable } from '../../src/presence/table.js';
import type { ChangeEntry } from '../../src/presence/types.js';
import { ManualScheduler } from '../../src/time/manual.js';
import { FakeLiveness } from '../support/fake-liveness.js';

const H = 'example.org';

describe('presence ingestion (gateway rows)', () => {
  let sched: ManualScheduler;
  let live: FakeLiveness;
  let table: ReturnType<typeof createPresenceTable>;
  const key = (id: string, source = 'emqx1'): SourcedKey => ({ host: H, transport: 'mqtt', source, id });
  const entries = (after = 0): ChangeEntry[] => {
    const r = table.readFeed(after, 100);
    if (r.kind !== 'ok') throw new Error('feed gone');
    return r.entries;
  };

  beforeEach(() => {
    sched = new ManualScheduler();
    live = new FakeLiveness(() => sched.clock.now());
    table = createPresenceTable({ clock: sched.clock, scheduler: sched, liveness: live, feedSize: 100, offlineTtlMs: 60_000, maxOffline: 100 });
  });

  it('adds an online row with its source, the gateway connected_at and meta, announced once', () => {
    const now = sched.clock.now();
    table.ingestOnline({ key: key('dev1'), connectedAt: now - 5_000, at: now, renew: false, meta: { username: 'u1' } });
    const row = table.get({ host: H, transport: 'mqtt', id: 'dev1', source: 'emqx1' });
    expect(row).toMatchObject({ source: 'emqx1', state: 'online', available: true, liveness: 'active', connected_at: now - 5_000, meta: { username: 'u1' } });
    expect(row?.next_deadline_at).toBeNull();
    expect(entries().map((e) => [e.kind, e.source, e.row.meta])).toEqual([['online', 'emqx1', { username: 'u1' }]]);
  });

  it('keeps one id namespace per source: local, emqx1 and aedes1 may each hold dev1', () => {
    live.connect(H, 'mqtt', 'dev1');
    table.ingestOnline({ key: key('dev1'), connectedAt: 1, at: 1, renew: false, meta: {} });
    table.ingestOnline({ key: key('dev1', 'aedes1'), connectedAt: 2, at: 2, renew: false, meta: {} });
    expect(table.get({ host: H, transport: 'mqtt', id: 'dev1' })?.source).toBe('local');
    expect(table.get({ host: H, transport: 'mqtt', id: 'dev1', source: 'aedes1' })?.connected_at).toBe(2);
    expect(table.list(H, { source: 'emqx1' }, 10, null).items.map((v) => v.source)).toEqual(['emqx1']);
    expect(table.list(H, {}, 10, null).items.map((v) => v.source)).toEqual(['local', 'emqx1', 'aedes1']);
    expect([table.count(H, 'mqtt', 'online'), table.count(H, 'mqtt', 'online', 'emqx1'), table.count(H, undefined, undefined, 'nope')]).toEqual([1, 1, 0]);
    table.ingestOffline(key('dev1'), 'gateway_down');
    expect(table.get({ host: H, transport: 'mqtt', id: 'dev1' })?.state).toBe('online');
  });

  it('announces changed details of the same session only, and a new session as a takeover', () => {
    table.ingestOnline({ key: key('dev1'), connectedAt: 10, at: 10, renew: false, meta: { node: 'n1' } });
    const gen = table.get({ ...key('dev1') })?.generation;
    table.ingestOnline({ key: key('dev1'), connectedAt: 10, at: 20, renew: false, meta: { node: 'n1' } });
    expect(entries()).toHaveLength(1);
    expect(table.get({ ...key('dev1') })?.last_activity_at).toBe(20);
    table.ingestOnline({ key: key('dev1'), connectedAt: 10, at: 30, renew: false, meta: { node: 'n2' } });
    table.ingestOnline({ key: key('dev1'), connectedAt: 40, at: 40, renew: true, meta: { node: 'n3' } });
    expect(entries().map((e) => [e.kind, e.takeover ?? null, e.row.meta.node])).toEqual([
      ['online', false, 'n1'],
      ['meta', null, 'n2'],
      ['online', true, 'n3'],
    ]);
    const row = table.get({ ...key('dev1') });
    expect(row?.generation).not.toBe(gen);
    expect(row?.connected_at).toBe(10); // one continuous online endpoint, as a local takeover
  });

  it('goes offline with the reason once; a later online is a new row', () => {
    table.ingestOnline({ key: key('dev1'), connectedAt: 10, at: 10, renew: false, meta: {} });
    sched.advance(1_000);
    table.ingestOffline(key('dev1'), 'gateway_down', { gateway_reason: 'lost' });
    table.ingestOffline(key('dev1'), 'client_close');
    expect(table.get({ ...key('dev1') })).toMatchObject({ state: 'offline', liveness: null, last_disconnect_reason: 'gateway_down', disconnected_at: sched.clock.now() });
    expect(entries().map((e) => [e.kind, e.reason ?? null])).toEqual([
      ['online', null],
      ['offline', 'gateway_down'],
    ]);
    expect(table.onlineKeys('emqx1')).toEqual([]);
    table.ingestOnline({ key: key('dev1'), connectedAt: 50, at: 50, renew: false, meta: {} });
    expect(table.get({ ...key('dev1') })).toMatchObject({ state: 'online', connected_at: 50, last_disconnect_reason: 'gateway_down' });
    expect(table.onlineKeys('emqx1')).toEqual([key('dev1')]);
  });

  it('takes XMPP availability from the gateway and announces its changes', () => {
    const k: SourcedKey = { host: H, transport: 'xmpp', source: 'ejabberd1', id: 'alice@example.org/phone' };
    table.ingestOnline({ key: k, connectedAt: 1, at: 1, renew: false, meta: {}, availability: { available: true, show: 'away', status: 'lunch', priority: 0 } });
    expect(table.get(k)).toMatchObject({ available: true, show: 'away', status: 'lunch', priority: 0 });
    table.ingestOnline({ key: k, connectedAt: 1, at: 2, renew: false, meta: {}, availability: { available: true, show: null, status: null, priority: 0 } });
    expect(table.listByPrefix(H, 'xmpp', 'alice@example.org', 'ejabberd1').map((v) => v.show)).toEqual([null]);
    expect(entries().map((e) => e.kind)).toEqual(['online', 'availability']);
  });
});
