/**
 * The Lua scripts against a real redis-server, op by op: fencing by epoch and lease, the
 * connection-token compare-and-set (stale writes dropped), takeover answers, the sweep's claim,
 * batches and idempotence (a second sweep, or one after a sweeper died between batches, finds
 * nothing to redo), REGISTER never reusing an epoch, RENEW refusing an expired lease.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { K } from '../../src/cluster/keys.js';
import { type RedisLink, connectRedis } from '../../src/cluster/redis.js';
import { APPLY, REGISTER, RENEW, SWEEP } from '../../src/cluster/scripts.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';

let redis: RedisServer;
let link: RedisLink;

beforeAll(async () => {
  redis = await startRedis();
  link = await connectRedis({ url: redis.url, nodes: [], password: null, tls: false, onError: () => undefined });
});
afterAll(async () => {
  await link?.close();
  await redis?.stop();
});

const register = async (node: string, leaseMs = 60_000, prev = 0) => Number(((await link.script(REGISTER, [K.nodes], [node, String(leaseMs), 'test', '', '0', String(prev)])) as number[])[0]);
const apply = (node: string, epoch: number, ops: object[]) => link.script(APPLY, [K.seq], [node, String(epoch), '1000', JSON.stringify(ops)]) as Promise<[string, [number, number, number, string][]]>;
const sweep = (me: string, myEpoch: number, dead: string, deadEpoch: number, batch = 500) =>
  link.script(SWEEP, [K.nodes], [me, String(myEpoch), dead, String(deadEpoch), String(batch), '1000', '5000']) as Promise<[string, number, number]>;
const expire = (node: string) => link.send(K.lease, ['ZADD', K.lease, '1', node]);
const field = (ep: string, f: string) => link.send(`{vigil}:ep:${ep}`, ['HGET', `{vigil}:ep:${ep}`, f]);
const on = (k: string, c: string) => ({ o: 'on', k, c, at: 1, av: 1 });

describe('cluster scripts', () => {
  it('takeover takes a new generation; the old token writes STALE; an old epoch is FENCED', async () => {
    const a = await register('a');
    const b = await register('b');
    const [, [r1]] = await apply('a', a, [on('h|mqtt|x', 'a:1')]);
    const [, [r2]] = await apply('b', b, [on('h|mqtt|x', 'b:1')]);
    expect(r2![0]).toBeGreaterThan(r1![0]);
    expect([r2![2], r2![3]]).toEqual([1, 'a']); // takeover, previous owner
    const [, [late]] = await apply('a', a, [{ o: 'off', k: 'h|mqtt|x', c: 'a:1', at: 2, r: 'taken_over', la: 2 }]);
    expect(late![3]).toBe('STALE');
    expect(await field('h|mqtt|x', 'st')).toBe('online');
    expect(await field('h|mqtt|x', 'n')).toBe('b');
    const replay = await apply('b', b, [on('h|mqtt|x', 'b:1')]);
    expect(replay[1][0]![3]).toBe('REPLAY');
    const a2 = await register('a', 60_000, a);
    expect(a2).toBeGreaterThan(a);
    expect((await apply('a', a, [on('h|mqtt|y', 'a:2')]))[0]).toBe('FENCED');
    await expire('b');
    expect((await apply('b', b, [on('h|mqtt|z', 'b:2')]))[0]).toBe('FENCED');
    expect(await link.script(RENEW, [K.nodes], ['b', String(b), '60000'])).toEqual(['FENCED', 'expired']);
  });

  it('sweep: only past the lease, one claimant, in batches, idempotent, node record removed at the end', async () => {
    const d = await register('d');
    const s1 = await register('s1');
    const s2 = await register('s2');
    const ops = Array.from({ length: 5 }, (_, i) => on(`h|mqtt|d${i}`, `d:${i}`));
    await apply('d', d, ops);
    expect((await sweep('s1', s1, 'd', d))[0]).toBe('ALIVE');
    await expire('d');
    expect(await sweep('s1', s1, 'd', d, 2)).toEqual(['OK', 2, 3]);
    expect(await sweep('s2', s2, 'd', d)).toEqual(['CLAIMED', 's1']);
    // s1 "dies" between batches: its claim expires, s2 finishes the rest once.
    await link.send('{vigil}:sweep:d:' + d, ['DEL', '{vigil}:sweep:d:' + d]);
    expect(await sweep('s2', s2, 'd', d)).toEqual(['OK', 3, 0]);
    expect(await sweep('s2', s2, 'd', d)).toEqual(['OK', 0, 0]);
    for (let i = 0; i < 5; i++) expect(await field(`h|mqtt|d${i}`, 'lr')).toBe('node_down');
    const downs = ((await link.send(K.feed, ['XRANGE', K.feed, '-', '+'])) as [string, string[]][]).filter(([, f]) => f.includes('node_down') && f[1]!.startsWith('h|mqtt|d'));
    expect(downs.length).toBe(5);
    expect(await link.send(K.nodes, ['HGET', K.nodes, 'd'])).toBeNull();
  });
});
