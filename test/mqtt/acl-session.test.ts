import { describe, expect, it } from 'vitest';
import { compileAcl, type AclRule } from '../../src/mqtt/acl.js';

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
