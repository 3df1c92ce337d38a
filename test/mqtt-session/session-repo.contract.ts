/**
 * One contract for every SessionRepo (SQLite, memory): each suite file calls `sessionRepoContract`
 * with a factory.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionOp, SessionRepo, StoredSessionMessage } from '../../src/store/session-types.js';

export interface RepoFixture {
  repo: SessionRepo;
  cleanup(): void;
}

const H = 'example.com';

export const stored = (topic: string, payload = topic, over: Partial<StoredSessionMessage> = {}): StoredSessionMessage => ({
  topic,
  payload: Buffer.from(payload),
  qos: 1,
  retain: false,
  properties: null,
  expiresAt: null,
  senderId: 'pub',
  subIds: null,
  ...over,
});

const put = (clientId: string, host = H): SessionOp => ({ op: 'session_put', host, clientId, expiryMs: 7_200_000, expiresAt: null });

export function sessionRepoContract(name: string, make: () => RepoFixture): void {
  describe(`SessionRepo contract: ${name}`, () => {
    let f: RepoFixture;
    let repo: SessionRepo;
    beforeEach(() => {
      f = make();
      repo = f.repo;
    });
    afterEach(() => f.cleanup());

    it('starts empty', () => {
      expect(repo.load()).toEqual([]);
      expect(repo.count()).toBe(0);
      expect(repo.get(H, 'c')).toBeUndefined();
    });

    it('stores a session with subscriptions, inflight, queue and awaiting rel, and reads them back in order', () => {
      const k = { host: H, clientId: 'c1' };
      repo.apply([
        put('c1'),
        { op: 'sub_put', ...k, filter: 'b/#', opts: { qos: 1, nl: false } },
        { op: 'sub_put', ...k, filter: 'a/+', opts: { qos: 2 } },
        { op: 'inflight_put', ...k, id: 9, phase: 'await_puback', msg: stored('t/1') },
        { op: 'inflight_put', ...k, id: 3, phase: 'await_pubrec', msg: stored('t/2', 'x', { qos: 2 }) },
        { op: 'queue_put', ...k, seq: 11, msg: stored('t/4') },
        { op: 'queue_put', ...k, seq: 10, msg: stored('t/3') },
        { op: 'rel_put', ...k, id: 5, atMs: 200 },
        { op: 'rel_put', ...k, id: 4, atMs: 100 },
      ]);
      const s = repo.get(H, 'c1')!;
      expect(s).toMatchObject({ host: H, clientId: 'c1', expiryMs: 7_200_000, expiresAt: null });
      expect(s.subscriptions).toEqual([
        { filter: 'a/+', opts: { qos: 2 } },
        { filter: 'b/#', opts: { qos: 1, nl: false } },
      ]);
      expect(s.inflight.map((e) => [e.id, e.phase, e.msg.topic])).toEqual([
        [9, 'await_puback', 't/1'],
        [3, 'await_pubrec', 't/2'],
      ]);
      expect(s.queue.map((e) => [e.seq, e.msg.topic])).toEqual([
        [10, 't/3'],
        [11, 't/4'],
      ]);
      expect(s.awaitingRel).toEqual([
        { id: 4, atMs: 100 },
        { id: 5, atMs: 200 },
      ]);
    });

    it('keeps payload bytes, properties with Buffers, expiry, sender and subscription ids', () => {
      const msg = stored('t', '', {
        payload: Buffer.from([0, 255, 1]),
        qos: 2,
        retain: true,
        properties: { correlationData: Buffer.from('corr'), userProperties: { a: 'b' } },
        expiresAt: 1_700_000_001_000,
        senderId: 'sender',
        subIds: [1, 7],
      });
      repo.apply([put('c'), { op: 'queue_put', host: H, clientId: 'c', seq: 1, msg }]);
      expect(repo.get(H, 'c')!.queue[0]!.msg).toEqual(msg);
    });

    it('updates a phase, deletes rows, and moves a re-used packet id to the end of the send order', () => {
      const k = { host: H, clientId: 'c' };
      repo.apply([
        put('c'),
        { op: 'inflight_put', ...k, id: 1, phase: 'await_pubrec', msg: stored('a') },
        { op: 'inflight_put', ...k, id: 2, phase: 'await_puback', msg: stored('b') },
        { op: 'queue_put', ...k, seq: 1, msg: stored('q') },
        { op: 'rel_put', ...k, id: 1, atMs: 1 },
        { op: 'sub_put', ...k, filter: 'f', opts: {} },
      ]);
      repo.apply([
        { op: 'inflight_phase', ...k, id: 1, phase: 'await_pubcomp' },
        { op: 'inflight_del', ...k, id: 2 },
        { op: 'queue_del', ...k, seq: 1 },
        { op: 'rel_del', ...k, id: 1 },
        { op: 'sub_del', ...k, filter: 'f' },
        { op: 'inflight_put', ...k, id: 2, phase: 'await_puback', msg: stored('c') },
      ]);
      const s = repo.get(H, 'c')!;
      expect(s.inflight.map((e) => [e.id, e.phase, e.msg.topic])).toEqual([
        [1, 'await_pubcomp', 'a'],
        [2, 'await_puback', 'c'],
      ]);
      expect(s.queue).toEqual([]);
      expect(s.awaitingRel).toEqual([]);
      expect(s.subscriptions).toEqual([]);
    });

    it('deletes a session with everything it holds', () => {
      const k = { host: H, clientId: 'c' };
      repo.apply([put('c'), { op: 'queue_put', ...k, seq: 1, msg: stored('q') }, { op: 'rel_put', ...k, id: 1, atMs: 1 }]);
      repo.apply([{ op: 'session_del', ...k }]);
      expect(repo.get(H, 'c')).toBeUndefined();
      repo.apply([put('c')]);
      expect(repo.get(H, 'c')).toMatchObject({ queue: [], awaitingRel: [] });
    });

    it('lists by host then client id, filters and counts by host, updates the record', () => {
      repo.apply([put('b'), put('a'), put('z', 'a.org'), { op: 'session_put', host: H, clientId: 'a', expiryMs: null, expiresAt: 42 }]);
      expect(repo.load().map((s) => `${s.host}/${s.clientId}`)).toEqual(['a.org/z', `${H}/a`, `${H}/b`]);
      expect(repo.load(H).map((s) => s.clientId)).toEqual(['a', 'b']);
      expect(repo.count()).toBe(3);
      expect(repo.count('a.org')).toBe(1);
      expect(repo.get(H, 'a')).toMatchObject({ expiryMs: null, expiresAt: 42 });
    });

    it('applies a batch all or nothing', () => {
      repo.apply([put('c')]);
      const bad: SessionOp[] = [
        { op: 'queue_put', host: H, clientId: 'c', seq: 1, msg: stored('q') },
        { op: 'inflight_put', host: H, clientId: 'c', id: 0, phase: 'await_puback', msg: stored('x') },
      ];
      expect(() => repo.apply(bad)).toThrow();
      expect(repo.get(H, 'c')!.queue).toEqual([]);
    });
  });
}
