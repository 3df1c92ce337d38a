import { describe, expect, it } from 'vitest';
import { SessionManager, type ManagerEffect, type OpenRequest } from '../../src/mqtt-session/manager.js';
import { sessionLimits } from '../../src/mqtt-session/limits.js';
import { limits, msg, sent, type TestMsg } from './fixtures.js';

const T0 = 1_700_000_000_000;
const H = 'example.com';

function manager(over = {}) {
  return new SessionManager<TestMsg>(() => limits(over));
}

const v3 = (clientId: string, cleanStart: boolean): OpenRequest => ({ host: H, clientId, cleanStart, version: 4 });
const v5 = (clientId: string, cleanStart: boolean, sessionExpiryS: number): OpenRequest => ({
  host: H,
  clientId,
  cleanStart,
  version: 5,
  sessionExpiryS,
});

const kinds = (fx: ManagerEffect<TestMsg>[]) => fx.filter((e) => e.type !== 'session').map((e) => (e.type === 'arm_expiry' ? `arm_expiry ${e.atMs === null ? 'null' : e.atMs - T0}` : e.type));

describe('session manager', () => {
  it('creates, resumes with Session Present, and discards on clean start [MQTT-3.2.2-1..3]', () => {
    const m = manager();
    const a = m.open(v3('c1', false), T0);
    expect(a.present).toBe(false);
    a.session.subscribe('t/#', { qos: 1 });
    m.close(H, 'c1', T0);
    const b = m.open(v3('c1', false), T0 + 1);
    expect(b.present).toBe(true);
    expect(b.session).toBe(a.session);
    m.close(H, 'c1', T0 + 2);
    const c = m.open(v3('c1', true), T0 + 3);
    expect(c.present).toBe(false);
    expect(c.session.subscriptions.size).toBe(0);
    expect(kinds(c.effects)).toContain('session_del');
  });

  it('keys sessions by host and client id', () => {
    const m = manager();
    const a = m.open(v3('c1', false), T0);
    const b = m.open({ ...v3('c1', false), host: 'other.org' }, T0);
    expect(a.session).not.toBe(b.session);
    expect(m.size).toBe(2);
  });

  it('moves a live session to the taking-over connection and resends its inflight', () => {
    const m = manager();
    const a = m.open(v3('c1', false), T0);
    a.session.deliver(msg('x'), T0);
    const b = m.open(v3('c1', false), T0 + 5);
    expect(b.present).toBe(true);
    expect(sent(b.effects.flatMap((e) => (e.type === 'session' ? [e.effect] : [])))).toEqual(['publish 1 x dup']);
  });

  it('deletes a clean session when its connection closes, without store writes', () => {
    const m = manager();
    const a = m.open(v3('c1', true), T0);
    expect(kinds(a.effects)).toEqual([]);
    expect(kinds(m.close(H, 'c1', T0))).toEqual([]);
    expect(m.get(H, 'c1')).toBeUndefined();
  });

  it('expires v3 persistent sessions session_expiry after disconnect, with their queues', () => {
    const m = manager({ sessionExpiryMs: 7_200_000 });
    const a = m.open(v3('c1', false), T0);
    expect(kinds(a.effects)).toEqual(['session_put']);
    const closed = m.close(H, 'c1', T0 + 1000);
    expect(kinds(closed)).toEqual(['session_put', 'arm_expiry 7201000']);
    a.session.deliver(msg('q'), T0 + 2000);
    expect(m.figures(H, 'c1')).toMatchObject({ connected: false, queued: 1, expiresAt: T0 + 7_201_000 });
    expect(m.expire(T0 + 7_200_999).expired).toEqual([]);
    const r = m.expire(T0 + 7_201_000);
    expect(r.expired).toEqual([{ host: H, clientId: 'c1' }]);
    expect(kinds(r.effects)).toEqual(['session_del']); // the timer fired: nothing left to arm
    expect(m.get(H, 'c1')).toBeUndefined();
  });

  it('uses the v5 Session Expiry Interval, capped by max_session_expiry, 0xFFFFFFFF = never', () => {
    const m = manager({ maxSessionExpiryMs: 60_000 });
    expect(m.expiryOf(v5('a', false, 30))).toBe(30_000);
    expect(m.expiryOf(v5('a', false, 3600))).toBe(60_000);
    expect(m.expiryOf(v5('a', false, 0xffffffff))).toBe(60_000);
    expect(m.expiryOf(v5('a', false, 0))).toBe(0);
    expect(manager().expiryOf(v5('a', false, 0xffffffff))).toBeNull();
    const never = manager();
    never.open(v5('n', false, 0xffffffff), T0);
    expect(kinds(never.close(H, 'n', T0))).toEqual(['session_put']);
    expect(never.figures(H, 'n')?.expiresAt).toBeNull();
  });

  it('v5: expiry 0 ends the session with the connection; DISCONNECT may change the interval', () => {
    const m = manager();
    m.open(v5('a', false, 0), T0);
    m.close(H, 'a', T0);
    expect(m.get(H, 'a')).toBeUndefined();
    m.open(v5('b', false, 100), T0);
    expect(kinds(m.close(H, 'b', T0, 0))).toEqual(['session_del']);
    expect(m.get(H, 'b')).toBeUndefined();
    m.open(v5('c', false, 100), T0);
    m.close(H, 'c', T0, 10);
    expect(m.figures(H, 'c')?.expiresAt).toBe(T0 + 10_000);
  });

  it('keeps one expiry timer at the earliest deadline and cancels a deadline on resume', () => {
    const m = manager();
    m.open(v5('a', false, 100), T0);
    m.open(v5('b', false, 50), T0);
    expect(kinds(m.close(H, 'a', T0))).toEqual(['session_put', 'arm_expiry 100000']);
    expect(kinds(m.close(H, 'b', T0))).toEqual(['session_put', 'arm_expiry 50000']);
    expect(kinds(m.open(v5('b', false, 50), T0 + 1).effects)).toEqual(['session_put', 'arm_expiry 100000']);
    expect(m.expire(T0 + 60_000).expired).toEqual([]);
  });

  it('restores stored sessions offline; one connected at shutdown starts its expiry now', () => {
    const m = manager();
    m.restore({ host: H, clientId: 'a' }, { expiryMs: 1000, expiresAt: null }, T0);
    m.restore({ host: H, clientId: 'b' }, { expiryMs: 1000, expiresAt: T0 + 500 }, T0);
    expect(kinds(m.startup())).toEqual(['session_put', 'arm_expiry 500']); // a's new deadline is stored
    expect(m.expire(T0 + 500).expired.map((k) => k.clientId)).toEqual(['b']);
    expect(m.open(v3('a', false), T0 + 600).present).toBe(true);
  });
});

describe('session manager takeover', () => {
  it('ignores the late close of a connection whose session was taken over', () => {
    const m = manager();
    const old = m.open(v3('c1', false), T0);
    const taker = m.open(v3('c1', false), T0 + 1);
    expect(m.close(H, 'c1', T0 + 2, undefined, old.generation)).toEqual([]);
    expect(m.figures(H, 'c1')?.connected).toBe(true);
    expect(kinds(m.close(H, 'c1', T0 + 3, undefined, taker.generation))).toEqual(['session_put', 'arm_expiry 7200003']);
    expect(m.close(H, 'c1', T0 + 4)).toEqual([]); // already offline
  });
});

describe('sessionLimits', () => {
  it('converts the mqtt.* options (seconds) and falls back to the defaults', () => {
    expect(sessionLimits({})).toEqual(limits());
    expect(sessionLimits({ max_inflight: 5, await_rel_timeout: 2, session_expiry: 10, retry_interval: 1, mqueue_priorities: { a: 3 } })).toMatchObject({
      maxInflight: 5,
      awaitRelTimeoutMs: 2000,
      sessionExpiryMs: 10_000,
      retryIntervalMs: 1000,
      mqueuePriorities: { a: 3 },
    });
  });
});
