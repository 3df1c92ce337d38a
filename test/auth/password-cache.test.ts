/** src/auth/password-cache.ts: plain password checks (SASL PLAIN, MQTT CONNECT) with a cache of successes. */
import { describe, expect, it } from 'vitest';
import { PasswordChecker } from '../../src/auth/password-cache.js';
import { makeUserRecord } from '../../src/auth/users.js';
import { createMemoryStore } from '../../src/store/memory.js';

const clock = { now: () => 0 };

/** Same StoredKey, another salt: a full PBKDF2 check now fails, a cache hit (StoredKey compared) does not. */
function spoilSalt(store: ReturnType<typeof createMemoryStore>, user: string): void {
  const rec = store.users.get('h', user)!;
  store.users.put({ ...rec, scramSha256: { ...rec.scramSha256!, salt: Buffer.alloc(16) } });
}

function setup() {
  const store = createMemoryStore();
  store.users.put(makeUserRecord('h', 'u', 'pw', clock, 64));
  return { store, check: new PasswordChecker(store, 2) };
}

describe('PasswordChecker.checkAsync (PBKDF2 on the thread pool)', () => {
  it('accepts the right password, refuses a wrong one and unknown users', async () => {
    const { check } = setup();
    expect(await check.checkAsync('h', 'u', 'pw')).toBe(true);
    expect(await check.checkAsync('h', 'u', 'pw2')).toBe(false);
    expect(await check.checkAsync('h', 'nobody', 'pw')).toBe(false);
    expect(await check.checkAsync('other', 'u', 'pw')).toBe(false);
  });

  it('a repeated success is served from the cache (one HMAC, no PBKDF2), sync and async alike', async () => {
    const { store, check } = setup();
    expect(await check.checkAsync('h', 'u', 'pw')).toBe(true);
    spoilSalt(store, 'u');
    expect(await check.checkAsync('h', 'u', 'pw')).toBe(true);
    expect(check.check('h', 'u', Buffer.from('pw'))).toBe(true);
    // A different password never hits: it pays the full (here: failing) check.
    expect(await check.checkAsync('h', 'u', 'pw2')).toBe(false);
  });

  it('misses when the password was changed or the user deleted', async () => {
    const { store, check } = setup();
    expect(await check.checkAsync('h', 'u', 'pw')).toBe(true);
    store.users.put(makeUserRecord('h', 'u', 'new', clock, 64));
    expect(await check.checkAsync('h', 'u', 'pw')).toBe(false);
    expect(await check.checkAsync('h', 'u', 'new')).toBe(true);
    store.users.delete('h', 'u');
    expect(await check.checkAsync('h', 'u', 'new')).toBe(false);
  });

  it('is bounded: the oldest entry goes first', async () => {
    const { store, check } = setup();
    for (const u of ['a', 'b', 'c']) store.users.put(makeUserRecord('h', u, 'pw', clock, 64));
    for (const u of ['a', 'b', 'c']) expect(await check.checkAsync('h', u, 'pw')).toBe(true);
    for (const u of ['a', 'c']) spoilSalt(store, u);
    expect(await check.checkAsync('h', 'c', 'pw')).toBe(true); // still cached
    expect(await check.checkAsync('h', 'a', 'pw')).toBe(false); // evicted: full check against the spoilt salt
  });

  it('a login whose PBKDF2 runs while the user is deleted (or gets a new password) fails', async () => {
    const { store, check } = setup();
    const pending = check.checkAsync('h', 'u', 'pw');
    store.users.delete('h', 'u');
    expect(await pending).toBe(false);
    store.users.put(makeUserRecord('h', 'u', 'pw', clock, 64));
    const racing = check.checkAsync('h', 'u', 'pw');
    store.users.put(makeUserRecord('h', 'u', 'other', clock, 64));
    expect(await racing).toBe(false);
    expect(await check.checkAsync('h', 'u', 'other')).toBe(true);
  });
});
