import { describe, expect, it } from 'vitest';
import { makeUserRecord } from '../../src/auth/users.js';
import { PasswordChecker } from '../../src/auth/password-cache.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { ManualClock } from '../../src/time/manual.js';

describe('PasswordChecker', () => {
  const clock = new ManualClock();
  const setup = () => {
    const store = createMemoryStore();
    store.users.put(makeUserRecord('h', 'u', 'pw', clock, 64));
    return { store, check: new PasswordChecker(store, 2) };
  };

  it('accepts the right password twice, refuses a wrong one after a success', () => {
    const { check } = setup();
    expect(check.check('h', 'u', Buffer.from('pw'))).toBe(true);
    expect(check.check('h', 'u', Buffer.from('pw'))).toBe(true);
    expect(check.check('h', 'u', Buffer.from('pw2'))).toBe(false);
    expect(check.check('h', 'nobody', Buffer.from('pw'))).toBe(false);
  });

  it('misses when the password was changed or the user deleted', () => {
    const { store, check } = setup();
    expect(check.check('h', 'u', Buffer.from('pw'))).toBe(true);
    store.users.put(makeUserRecord('h', 'u', 'new', clock, 64));
    expect(check.check('h', 'u', Buffer.from('pw'))).toBe(false);
    expect(check.check('h', 'u', Buffer.from('new'))).toBe(true);
    store.users.delete('h', 'u');
    expect(check.check('h', 'u', Buffer.from('new'))).toBe(false);
  });
});
