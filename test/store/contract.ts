/**
 * One contract for every Store implementation (memory.ts, sqlite.ts): each suite file calls
 * `storeContract` with a factory. Implementation-specific behaviour (durability, second
 * connection, migrations) lives in that implementation's own test file.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RetainedMessage, RosterItem, ScramCredential, Store, UserRecord } from '../../src/store/types.js';

export interface StoreFixture {
  store: Store;
  cleanup(): void;
}

const cred = (seed: number): ScramCredential => ({
  salt: Buffer.alloc(16, seed),
  iterations: 4096,
  storedKey: Buffer.alloc(32, seed + 1),
  serverKey: Buffer.alloc(32, seed + 2),
});

export const userRecord = (
  host: string,
  user: string,
  seed = 1,
  createdAt = 1_700_000_000_000,
): UserRecord & { scramSha1: ScramCredential; scramSha256: ScramCredential } => ({
  host,
  user,
  scramSha1: { ...cred(seed), storedKey: Buffer.alloc(20, seed + 1), serverKey: Buffer.alloc(20, seed + 2) },
  scramSha256: cred(seed + 10),
  createdAt,
});

export const rosterItem = (jid: string, over: Partial<RosterItem> = {}): RosterItem => ({
  jid,
  name: null,
  subscription: 'none',
  askOut: false,
  pendingIn: false,
  approved: false,
  groups: [],
  ...over,
});

export const retained = (topic: string, payload: Buffer | string, over: Partial<RetainedMessage> = {}): RetainedMessage => ({
  topic,
  payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload),
  qos: 0,
  properties: null,
  storedAt: 1_700_000_000_000,
  ...over,
});

export function storeContract(name: string, open: () => StoreFixture): void {
  describe(`Store contract: ${name}`, () => {
    let fx: StoreFixture;
    let store: Store;
    beforeEach(() => {
      fx = open();
      store = fx.store;
    });
    afterEach(() => {
      store.close();
      fx.cleanup();
    });

    describe('users', () => {
      it('puts, gets back every credential byte and reports new vs replaced', () => {
        const rec = userRecord('example.com', 'alice');
        expect(store.users.put(rec)).toBe(true);
        expect(store.users.get('example.com', 'alice')).toEqual(rec);
        const changed = userRecord('example.com', 'alice', 7);
        expect(store.users.put(changed)).toBe(false);
        const got = store.users.get('example.com', 'alice');
        expect(got).toEqual(changed);
        expect(Buffer.isBuffer(got?.scramSha256?.salt)).toBe(true);
        expect(got?.scramSha1?.storedKey).toHaveLength(20);
      });

      it('keeps an account with one credential only (imported pre-hashed): the other reads back null', () => {
        const sha1Only = { ...userRecord('example.com', 'old'), scramSha256: null };
        const sha256Only = { ...userRecord('example.com', 'new'), scramSha1: null };
        store.users.put(sha1Only);
        expect(store.users.createMany([sha256Only])).toEqual([true]);
        expect(store.users.get('example.com', 'old')).toEqual(sha1Only);
        expect(store.users.get('example.com', 'new')).toEqual(sha256Only);
      });

      it('createMany inserts only users that do not exist yet and says which, leaving existing ones untouched', () => {
        const first = userRecord('a.org', 'bob', 1);
        store.users.put(first);
        const again = userRecord('a.org', 'bob', 5);
        const fresh = userRecord('a.org', 'cy', 6);
        expect(store.users.createMany([again, fresh, userRecord('a.org', 'cy', 9)])).toEqual([false, true, false]);
        expect(store.users.get('a.org', 'bob')).toEqual(first);
        expect(store.users.get('a.org', 'cy')).toEqual(fresh);
        expect(store.users.createMany([])).toEqual([]);
      });

      it('returns undefined for unknown users; hosts are separate namespaces', () => {
        store.users.put(userRecord('a.org', 'bob'));
        expect(store.users.get('a.org', 'alice')).toBeUndefined();
        expect(store.users.get('b.org', 'bob')).toBeUndefined();
      });

      it('deletes', () => {
        store.users.put(userRecord('a.org', 'bob'));
        expect(store.users.delete('a.org', 'bob')).toBe(true);
        expect(store.users.delete('a.org', 'bob')).toBe(false);
        expect(store.users.get('a.org', 'bob')).toBeUndefined();
      });

      it('lists sorted by host then user (UTF-8 byte order) and counts', () => {
        for (const [h, u] of [['b.org', 'zed'], ['a.org', 'mia'], ['b.org', 'amy'], ['a.org', 'Z'], ['a.org', 'é'], ['a.org', 'ab']]) {
          store.users.put(userRecord(h!, u!));
        }
        const all = store.users.list().map((s) => `${s.user}@${s.host}`);
        expect(all).toEqual(['Z@a.org', 'ab@a.org', 'mia@a.org', 'é@a.org', 'amy@b.org', 'zed@b.org']);
        expect(store.users.list('b.org')).toEqual([
          { host: 'b.org', user: 'amy', createdAt: 1_700_000_000_000 },
          { host: 'b.org', user: 'zed', createdAt: 1_700_000_000_000 },
        ]);
        expect(store.users.list('c.org')).toEqual([]);
        expect(store.users.count()).toBe(6);
        expect(store.users.count('a.org')).toBe(4);
        expect(store.users.count('c.org')).toBe(0);
      });

      it('does not share Buffers with the caller', () => {
        const rec = userRecord('a.org', 'bob');
        store.users.put(rec);
        rec.scramSha256.salt.fill(0xff);
        const got = store.users.get('a.org', 'bob')!;
        expect(got.scramSha256!.salt.equals(Buffer.alloc(16, 11))).toBe(true);
        got.scramSha1!.salt.fill(0xee);
        expect(store.users.get('a.org', 'bob')!.scramSha1!.salt.equals(Buffer.alloc(16, 1))).toBe(true);
      });
    });

    describe('rosters', () => {
      it('puts, gets, replaces and deletes items with every field', () => {
        const item = rosterItem('juliet@capulet.lit', {
          name: 'Juliet',
          subscription: 'both',
          askOut: true,
          pendingIn: true,
          approved: true,
          groups: ['Friends', 'Verona'],
        });
        store.rosters.put('montague.lit', 'romeo', item);
        expect(store.rosters.get('montague.lit', 'romeo', 'juliet@capulet.lit')).toEqual(item);
        store.rosters.put('montague.lit', 'romeo', { ...item, subscription: 'to', askOut: false, groups: [] });
        expect(store.rosters.get('montague.lit', 'romeo', 'juliet@capulet.lit')).toMatchObject({ subscription: 'to', askOut: false, groups: [] });
        expect(store.rosters.count('montague.lit', 'romeo')).toBe(1);
        expect(store.rosters.delete('montague.lit', 'romeo', 'juliet@capulet.lit')).toBe(true);
        expect(store.rosters.delete('montague.lit', 'romeo', 'juliet@capulet.lit')).toBe(false);
        expect(store.rosters.get('montague.lit', 'romeo', 'juliet@capulet.lit')).toBeUndefined();
      });

      it('lists one user sorted by jid, clears one user only', () => {
        for (const jid of ['nurse@capulet.lit', 'benvolio@montague.lit', 'juliet@capulet.lit']) {
          store.rosters.put('montague.lit', 'romeo', rosterItem(jid));
        }
        store.rosters.put('montague.lit', 'benvolio', rosterItem('romeo@montague.lit'));
        expect(store.rosters.list('montague.lit', 'romeo').map((i) => i.jid)).toEqual([
          'benvolio@montague.lit',
          'juliet@capulet.lit',
          'nurse@capulet.lit',
        ]);
        expect(store.rosters.list('montague.lit', 'nobody')).toEqual([]);
        store.rosters.clear('montague.lit', 'romeo');
        expect(store.rosters.count('montague.lit', 'romeo')).toBe(0);
        expect(store.rosters.count('montague.lit', 'benvolio')).toBe(1);
      });

      it('does not share the groups array with the caller', () => {
        const item = rosterItem('a@b', { groups: ['x'] });
        store.rosters.put('h', 'u', item);
        item.groups.push('y');
        expect(store.rosters.get('h', 'u', 'a@b')!.groups).toEqual(['x']);
      });
    });

    describe('retained', () => {
      it('round-trips binary payloads byte for byte, including empty and all 256 byte values', () => {
        const bin = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
        store.retained.put('h', retained('bin', bin, { qos: 2 }));
        store.retained.put('h', retained('empty', Buffer.alloc(0), { qos: 1 }));
        const [b, e] = store.retained.list('h');
        expect(b?.payload.equals(bin)).toBe(true);
        expect(Buffer.isBuffer(b?.payload)).toBe(true);
        expect(b?.qos).toBe(2);
        expect(e?.payload.length).toBe(0);
        expect(e?.qos).toBe(1);
      });

      it('keeps MQTT 5 properties, Buffers included', () => {
        const properties = { contentType: 'text/plain', correlationData: Buffer.from([0, 1, 255]), userProperties: { a: ['1', '2'] } };
        store.retained.put('h', retained('t', 'x', { properties }));
        const got = store.retained.list('h')[0]!;
        expect(got.properties).toEqual(properties);
        expect(Buffer.isBuffer(got.properties?.['correlationData'])).toBe(true);
      });

      it('replaces per topic, deletes, lists sorted by topic per host, counts', () => {
        store.retained.put('h', retained('b/c', 'one'));
        store.retained.put('h', retained('a', 'two'));
        store.retained.put('h', retained('b/c', 'three', { storedAt: 5 }));
        store.retained.put('other', retained('z', 'four'));
        expect(store.retained.list('h').map((m) => [m.topic, m.payload.toString(), m.storedAt])).toEqual([
          ['a', 'two', 1_700_000_000_000],
          ['b/c', 'three', 5],
        ]);
        expect(store.retained.count('h')).toBe(2);
        expect(store.retained.count()).toBe(3);
        expect(store.retained.delete('h', 'a')).toBe(true);
        expect(store.retained.delete('h', 'a')).toBe(false);
        expect(store.retained.count('h')).toBe(1);
        expect(store.retained.list('none')).toEqual([]);
      });
    });

    describe('hostConfig', () => {
      it('puts, replaces and returns copies of JSON overrides', () => {
        expect(store.hostConfig.get('a.org')).toBeUndefined();
        const over = { ping: { ping_interval: 5, send_pings: true }, tags: ['x'], nothing: null };
        store.hostConfig.put('a.org', over);
        over.ping.ping_interval = 99;
        expect(store.hostConfig.get('a.org')).toEqual({ ping: { ping_interval: 5, send_pings: true }, tags: ['x'], nothing: null });
        store.hostConfig.put('a.org', { ping: { timeout_action: 'none' } });
        expect(store.hostConfig.get('a.org')).toEqual({ ping: { timeout_action: 'none' } });
      });

      it('lists all hosts in host order', () => {
        store.hostConfig.put('b.org', { x: 1 });
        store.hostConfig.put('a.org', { y: 2 });
        const all = store.hostConfig.all();
        expect(all).toEqual({ 'a.org': { y: 2 }, 'b.org': { x: 1 } });
        expect(Object.keys(all)).toEqual(['a.org', 'b.org']);
      });
    });

    describe('kv', () => {
      it('puts, replaces and gets strings', () => {
        expect(store.kv.get('api_token')).toBeUndefined();
        store.kv.put('api_token', 'secret');
        store.kv.put('api_token', 'other');
        store.kv.put('empty', '');
        expect(store.kv.get('api_token')).toBe('other');
        expect(store.kv.get('empty')).toBe('');
      });
    });

    it('close is idempotent and isOpen reports it', () => {
      expect(store.isOpen()).toBe(true);
      store.close();
      store.close();
      expect(store.isOpen()).toBe(false);
    });
  });
}
