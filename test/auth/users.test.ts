import { describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/auth/scram.js';
import { PasswordChecker } from '../../src/auth/password-cache.js';
import { checkPassword, makeUserRecord } from '../../src/auth/users.js';
import { createMemoryStore } from '../../src/store/memory.js';

const clock = { now: () => 1_700_000_000_000 };

describe('makeUserRecord', () => {
  it('derives both SCRAM credentials with the default 4096 iterations and never keeps the password', () => {
    const rec = makeUserRecord('example.com', 'alice', 'secret', clock);
    expect(rec).toMatchObject({ host: 'example.com', user: 'alice', createdAt: 1_700_000_000_000 });
    expect(rec.scramSha1.iterations).toBe(4096);
    expect(rec.scramSha256.iterations).toBe(4096);
    expect(rec.scramSha1.storedKey).toHaveLength(20);
    expect(rec.scramSha256.storedKey).toHaveLength(32);
    expect(rec.scramSha1.salt.equals(rec.scramSha256.salt)).toBe(false);
    expect(verifyPassword('sha1', rec.scramSha1, 'secret')).toBe(true);
    expect(verifyPassword('sha256', rec.scramSha256, 'secret')).toBe(true);
    expect(JSON.stringify(rec)).not.toContain('secret');
  });
});

describe('checkPassword', () => {
  it('accepts the right password, refuses a wrong one and unknown users', () => {
    const store = createMemoryStore();
    store.users.put(makeUserRecord('example.com', 'alice', 'secret', clock, 64));
    expect(checkPassword(store, 'example.com', 'alice', 'secret')).toBe(true);
    expect(checkPassword(store, 'example.com', 'alice', 'Secret')).toBe(false);
    expect(checkPassword(store, 'example.com', 'bob', 'secret')).toBe(false);
    expect(checkPassword(store, 'other.org', 'alice', 'secret')).toBe(false);
  });

  it('checks an account imported with only one SCRAM hash against that one; an account with none never passes', async () => {
    const store = createMemoryStore();
    store.users.put({ ...makeUserRecord('example.com', 'old', 'legacy', clock, 64), scramSha256: null });
    store.users.put({ ...makeUserRecord('example.com', 'new', 'modern', clock, 64), scramSha1: null });
    store.users.put({ ...makeUserRecord('example.com', 'none', 'x', clock, 64), scramSha1: null, scramSha256: null });
    expect(checkPassword(store, 'example.com', 'old', 'legacy')).toBe(true);
    expect(checkPassword(store, 'example.com', 'old', 'Legacy')).toBe(false);
    expect(checkPassword(store, 'example.com', 'new', 'modern')).toBe(true);
    expect(checkPassword(store, 'example.com', 'none', 'x')).toBe(false);
    const checker = new PasswordChecker(store);
    expect(await checker.checkAsync('example.com', 'old', 'legacy')).toBe(true);
    expect(checker.check('example.com', 'old', 'legacy')).toBe(true); // now from the cache
    expect(checker.hits).toBe(1);
  });
});
