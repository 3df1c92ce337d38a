/**
 * One contract for every RetainedStore (src/mqtt/retained.ts): what `matching` answers for exact
 * and wildcard filters, clearing, expiry, and that another store on the same backing (a restart,
 * another node) holds the same messages. `matching` is awaited, so an implementation may answer
 * by promise. Each suite file calls `retainedContract` with a factory.
 */
import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/mqtt/message.js';
import type { RetainedStore } from '../../src/mqtt/retained.js';

export interface RetainedFixture {
  store: RetainedStore;
  /** A new store on the same backing (restart, another node). */
  reopen(): RetainedStore;
}

export type MakeRetained = () => RetainedFixture;

const NOW = 1_700_000_000_000;

const retained = (topic: string, payload = topic, over: Partial<Message> = {}): Message => ({
  topic,
  payload: Buffer.from(payload),
  qos: 1,
  retain: true,
  properties: null,
  expiresAt: null,
  senderId: 'pub',
  ...over,
});

const topics = async (s: RetainedStore, filter: string, now = NOW) => (await s.matching(filter, now)).map((m) => m.topic).sort();

export function retainedContract(name: string, make: MakeRetained): void {
  describe(`RetainedStore contract: ${name}`, () => {
    it('keeps the last retained message of a topic, found by its exact name', async () => {
      const { store } = make();
      store.put(retained('a/b', 'one'));
      store.put(retained('a/b', 'two'));
      const found = await store.matching('a/b', NOW);
      expect(found.map((m) => m.payload.toString())).toEqual(['two']);
      expect(found[0]).toMatchObject({ topic: 'a/b', qos: 1 });
      expect(store.size).toBe(1);
      expect(await store.matching('a/c', NOW)).toEqual([]);
    });

    it('an empty payload clears the topic [MQTT-3.3.1-10/11]', async () => {
      const { store } = make();
      store.put(retained('a/b'));
      store.put(retained('a/b', ''));
      expect(await store.matching('a/b', NOW)).toEqual([]);
      expect(store.size).toBe(0);
    });

    it('wildcard filters match by level; $-topics are not matched by + or # at the first level [MQTT-4.7.2-1]', async () => {
      const { store } = make();
      for (const t of ['a', 'a/b', 'a/b/c', 'x/b', '$SYS/load']) store.put(retained(t));
      expect(await topics(store, '#')).toEqual(['a', 'a/b', 'a/b/c', 'x/b']);
      expect(await topics(store, 'a/#')).toEqual(['a', 'a/b', 'a/b/c']);
      expect(await topics(store, '+/b')).toEqual(['a/b', 'x/b']);
      expect(await topics(store, '$SYS/#')).toEqual(['$SYS/load']);
    });

    it('an expired message is not answered (v5 Message Expiry Interval)', async () => {
      const { store } = make();
      store.put(retained('t', 'x', { expiresAt: NOW + 10_000 }));
      expect(await topics(store, 't', NOW + 9_999)).toEqual(['t']);
      expect(await topics(store, 't', NOW + 10_000)).toEqual([]);
      expect(await topics(store, '#', NOW + 10_000)).toEqual([]);
    });

    it('another store on the same backing holds the same messages', async () => {
      const f = make();
      f.store.put(retained('a/b', 'kept', { qos: 2 }));
      f.store.put(retained('c', 'gone'));
      f.store.put(retained('c', ''));
      const again = f.reopen();
      const found = await again.matching('#', NOW);
      expect(found.map((m) => [m.topic, m.payload.toString(), m.qos, m.retain])).toEqual([['a/b', 'kept', 2, true]]);
    });
  });
}
