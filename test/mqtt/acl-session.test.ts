import { describe, expect, it } from 'vitest';
import { compileAcl, type AclRule } from '../../src/mqtt/acl.js';
import type { Delivery } from '../../src/mqtt/message.js';
import { MemorySession } from '../../src/mqtt/session.js';

const rule = (r: Partial<AclRule>): AclRule => ({ permission: 'deny', action: 'all', topic: '#', username: '*', client_id: '*', ...r });
const alice = { username: 'alice', clientId: 'dev-1' };

describe('ACL', () => {
  it('first match wins, default applies otherwise', () => {
    const acl = compileAcl([rule({ permission: 'allow', topic: 'public/#' }), rule({ topic: 'public/secret' }), rule({ action: 'publish', topic: 'sensors/#' })], 'allow');
    expect(acl.allows('publish', 'public/secret', alice)).toBe(true);
    expect(acl.allows('publish', 'sensors/t', alice)).toBe(false);
    expect(acl.allows('subscribe', 'sensors/#', alice)).toBe(true);
    expect(acl.allows('subscribe', 'other', alice)).toBe(true);
    expect(compileAcl([], 'deny').allows('publish', 'x', alice)).toBe(false);
  });

  it('subscriptions must lie inside the rule filter', () => {
    const acl = compileAcl([rule({ permission: 'allow', action: 'subscribe', topic: 'a/#' })], 'deny');
    expect(acl.allows('subscribe', 'a/+/c', alice)).toBe(true);
    expect(acl.allows('subscribe', '#', alice)).toBe(false);
  });

  it('username and client id globs, %u and %c substitution, anonymous clients', () => {
    const acl = compileAcl(
      [
        rule({ permission: 'allow', topic: 'users/%u/#' }),
        rule({ permission: 'allow', topic: 'devices/%c' }),
        rule({ permission: 'allow', username: 'adm*', topic: '#' }),
      ],
      'deny',
    );
    expect(acl.allows('publish', 'users/alice/x', alice)).toBe(true);
    expect(acl.allows('publish', 'users/bob/x', alice)).toBe(false);
    expect(acl.allows('publish', 'devices/dev-1', alice)).toBe(true);
    expect(acl.allows('publish', 'any', { username: 'admin', clientId: 'x' })).toBe(true);
    expect(acl.allows('publish', 'users//x', { username: null, clientId: 'x' })).toBe(false);
    expect(acl.allows('publish', 'devices/+', { username: null, clientId: '+' })).toBe(false);
  });
});

describe('MemorySession', () => {
  const d = (n: number): Delivery => ({ msg: { topic: 't', payload: Buffer.from(String(n)), qos: 1, retain: false, properties: null, expiresAt: null, senderId: '' }, qos: 1, retain: false, subIds: null });

  it('allocates ids 1..65535, skips ids in use, wraps', () => {
    const s = new MemorySession('h', 'c', false);
    expect(s.allocateId()).toBe(1);
    s.inflight.set(2, { delivery: d(0), phase: 'await_puback' });
    expect(s.allocateId()).toBe(3);
    for (let i = 4; i <= 65_535; i++) s.allocateId();
    expect(s.allocateId()).toBe(1); // wrapped, 2 still in use
    expect(s.allocateId()).toBe(3);
  });

  it('returns 0 when every id is in use', () => {
    const s = new MemorySession('h', 'c', false);
    for (let i = 1; i <= 65_535; i++) s.inflight.set(i, { delivery: d(i), phase: 'await_puback' });
    expect(s.allocateId()).toBe(0);
  });

  it('pending queue keeps order and drops the oldest past max', () => {
    const s = new MemorySession('h', 'c', false);
    for (let i = 1; i <= 5; i++) s.enqueue(d(i), 3);
    expect(s.dropped).toBe(2);
    expect(s.pendingLength()).toBe(3);
    expect([s.dequeue(), s.dequeue(), s.dequeue(), s.dequeue()].map((x) => x?.msg.payload.toString())).toEqual(['3', '4', '5', undefined]);
  });
});
