/**
 * The session book on the real presence table with a ManualScheduler: ordering by EMQX's
 * connected_at, debounced offline without one (Aedes, VerneMQ), the REST check, snapshots that
 * yield to newer events, node and gateway loss.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { SessionBook } from '../../src/gateway/session-book.js';
import type { ClientEvent, SnapshotSession } from '../../src/gateway/types.js';
import { createPresenceTable } from '../../src/presence/table.js';
import { ManualScheduler } from '../../src/time/manual.js';
import { FakeLiveness } from '../support/fake-liveness.js';

const H = 'example.org';

function ev(type: ClientEvent['type'], id: string, o: Partial<ClientEvent> = {}): ClientEvent {
  return { type, id, order: null, at: null, sentAt: null, reason: null, node: null, meta: {}, ...o };
}
const snap = (id: string, o: Partial<SnapshotSession> = {}): SnapshotSession => ({ id, order: null, connectedAt: null, session: null, node: null, meta: {}, ...o });

describe('gateway session book', () => {
  let sched: ManualScheduler;
  let table: ReturnType<typeof createPresenceTable>;
  let checks: string[];
  let checkable: boolean;
  const book = (debounceMs = 0) =>
    new SessionBook({
      key: (id) => ({ host: H, transport: 'mqtt', source: 'gw', id }),
      ingest: table,
      clock: sched.clock,
      scheduler: sched,
      debounceMs,
      checkable: () => checkable,
      check: (id) => checks.push(id),
    });
  const row = (id: string) => table.get({ host: H, transport: 'mqtt', source: 'gw', id });
  const feed = () => {
    const r = table.readFeed(0, 1000);
    if (r.kind !== 'ok') throw new Error('gone');
    return r.entries.map((e) => `${e.kind}:${e.id}${e.reason ? `:${e.reason}` : ''}${e.takeover ? ':takeover' : ''}`);
  };

  beforeEach(() => {
    sched = new ManualScheduler();
    table = createPresenceTable({ clock: sched.clock, scheduler: sched, liveness: new FakeLiveness(() => sched.clock.now()), feedSize: 1000, offlineTtlMs: 3_600_000, maxOffline: 1000 });
    checks = [];
    checkable = false;
  });

  describe('with an ordering key (EMQX connected_at)', () => {
    it('orders sessions whatever the arrival: a takeover whose old disconnect comes last stays online', () => {
      const b = book();
      expect(b.event(ev('connected', 'd', { order: 100, at: 100 }))).toBe('applied');
      expect(b.event(ev('connected', 'd', { order: 200, at: 200 }))).toBe('applied');
      expect(b.event(ev('disconnected', 'd', { order: 100, reason: 'taken_over' }))).toBe('stale');
      expect(row('d')).toMatchObject({ state: 'online', connected_at: 100 });
      expect(b.event(ev('disconnected', 'd', { order: 200, reason: 'keepalive_timeout' }))).toBe('applied');
      expect(b.event(ev('disconnected', 'd', { order: 200, reason: 'keepalive_timeout' }))).toBe('duplicate');
      expect(b.event(ev('connected', 'd', { order: 200, at: 200 }))).toBe('stale');
      expect(row('d')).toMatchObject({ state: 'offline', last_disconnect_reason: 'keepalive_timeout' });
      expect(feed()).toEqual(['online:d', 'online:d:takeover', 'offline:d:keepalive_timeout']);
    });

    it('remembers a disconnect that came before its connect, so the late connect never revives it', () => {
      const b = book();
      expect(b.event(ev('disconnected', 'd', { order: 100, reason: 'client_close' }))).toBe('applied');
      expect(b.event(ev('connected', 'd', { order: 100, at: 100 }))).toBe('stale');
      expect(row('d')).toBeUndefined();
      expect(b.event(ev('connected', 'd', { order: 300, at: 300 }))).toBe('applied');
      expect(row('d')?.state).toBe('online');
    });

    it('orders a disconnect without connected_at (EMQX 5.0-5.x) by its disconnected_at', () => {
      const b = book();
      b.event(ev('connected', 'd', { order: 500, at: 500 }));
      expect(b.event(ev('disconnected', 'd', { at: 400 }))).toBe('stale');
      expect(b.event(ev('disconnected', 'd', { at: 600 }))).toBe('applied');
      expect(row('d')?.last_disconnect_reason).toBe('gateway_offline');
    });
  });

  describe('without an ordering key (Aedes, Mosquitto, VerneMQ)', () => {
    it('debounces offline: a reconnect within offline_debounce_ms is one continuous session', () => {
      const b = book(2_000);
      b.event(ev('connected', 'd', { node: 'b1' }));
      b.event(ev('disconnected', 'd', { node: 'b1' }));
      sched.advance(1_999);
      b.event(ev('connected', 'd', { node: 'b1' }));
      sched.advance(10_000);
      expect(row('d')?.state).toBe('online');
      expect(feed()).toEqual(['online:d', 'online:d:takeover']);
    });

    it('goes offline exactly offline_debounce_ms after the disconnect', () => {
      const b = book(2_000);
      b.event(ev('connected', 'd'));
      b.event(ev('disconnected', 'd'));
      sched.advance(1_999);
      expect(row('d')?.state).toBe('online');
      sched.advance(1);
      expect(row('d')).toMatchObject({ state: 'offline', last_disconnect_reason: 'gateway_offline' });
    });

    it("takes a late disconnect from another node as that node's old session", () => {
      const b = book(0);
      b.event(ev('connected', 'd', { node: 'b1' }));
      b.event(ev('connected', 'd', { node: 'b2' }));
      expect(b.event(ev('disconnected', 'd', { node: 'b1' }))).toBe('stale');
      expect(row('d')).toMatchObject({ state: 'online', meta: { node: 'b2' } });
    });

    it("asks the gateway's REST at the end of the wait when it can: online keeps the row", () => {
      checkable = true;
      const b = book(1_000);
      b.event(ev('connected', 'd'));
      b.event(ev('disconnected', 'd'));
      sched.advance(1_000);
      expect(checks).toEqual(['d']);
      expect(b.checked('d', true)).toBe('stale');
      expect(row('d')?.state).toBe('online');
      b.event(ev('disconnected', 'd'));
      sched.advance(1_000);
      b.checked('d', false);
      expect(row('d')?.state).toBe('offline');
    });

    it('lets the REST settle a connect and a disconnect that crossed (VerneMQ, pooled connections)', () => {
      checkable = true;
      const b = book(1_000);
      b.event(ev('connected', 'd'));
      b.event(ev('disconnected', 'd'));
      b.event(ev('connected', 'd')); // older, arrived later
      sched.advance(1_000);
      expect(checks).toEqual(['d']);
      b.checked('d', false);
      expect(row('d')?.state).toBe('offline');
    });
  });

  describe('snapshots and loss', () => {
    it('adds listed sessions, ends unlisted ones, and yields to events newer than its request', () => {
      const b = book(0);
      b.event(ev('connected', 'old'));
      b.event(ev('connected', 'stays'));
      const mark = b.mark();
      b.event(ev('connected', 'fresh')); // came while the snapshot was in flight
      b.event(ev('disconnected', 'stays'));
      const r = b.snapshot([snap('stays'), snap('new1', { connectedAt: 42 })], mark);
      expect(r).toEqual({ listed: 2, gone: 1 });
      expect([row('old')?.state, row('stays')?.state, row('fresh')?.state, row('new1')?.connected_at]).toEqual(['offline', 'offline', 'online', 42]);
      expect(row('old')).toMatchObject({ last_disconnect_reason: 'gateway_offline', meta: { gateway_reason: 'not_listed' } });
    });

    it('renews a row whose snapshot session changed (ejabberd peer), and updates details of the same one', () => {
      const b = book(0);
      b.snapshot([snap('a@x/r', { session: '1.2.3.4:5@n' })], b.mark());
      b.snapshot([snap('a@x/r', { session: '1.2.3.4:5@n', meta: { tag: 't' } })], b.mark());
      b.snapshot([snap('a@x/r', { session: '1.2.3.4:6@n' })], b.mark());
      expect(feed()).toEqual(['online:a@x/r', 'meta:a@x/r', 'online:a@x/r:takeover']);
    });

    it('takes down the rows of one node, or all, with gateway_down; and gets them back from events', () => {
      const b = book(0);
      b.event(ev('connected', 'a', { node: 'n1' }));
      b.event(ev('connected', 'b', { node: 'n2' }));
      expect(b.down('n1')).toBe(1);
      expect([row('a')?.last_disconnect_reason, row('b')?.state]).toEqual(['gateway_down', 'online']);
      expect(b.down(null)).toBe(1);
      expect(b.onlineCount()).toBe(0);
      b.event(ev('connected', 'a', { node: 'n1' }));
      expect(row('a')?.state).toBe('online');
    });
  });
});
