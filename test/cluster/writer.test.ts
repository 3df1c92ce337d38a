/**
 * The presence writer against a fake Redis link (the narrow RedisLink interface): the ops of one
 * window go in one APPLY in order; meta set right after tracking rides on the `on`; a connection
 * that comes and goes inside one window is still written (online then offline) while Redis
 * answers, and is left out entirely while Redis is away (reconciliation during an outage).
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { LuaScript, RedisLink } from '../../src/cluster/redis.js';
import { PresenceWriter } from '../../src/cluster/writer.js';
import { createLivenessRegistry } from '../../src/liveness/registry.js';
import type { LivenessAdapter } from '../../src/liveness/types.js';
import { ManualScheduler } from '../../src/time/manual.js';
import { until } from '../support/until.js';

type Op = { o: string; k: string; m?: Record<string, unknown> };

function fakeLink(opts: { down?: () => boolean } = {}) {
  const calls: Op[][] = [];
  const link: RedisLink = {
    send: () => Promise.resolve(null),
    script(_s: LuaScript, _keys, args) {
      if (opts.down?.()) return Promise.reject(new Error('connection lost'));
      const ops = JSON.parse(args[3]!) as Op[];
      calls.push(ops);
      return Promise.resolve(['OK', ops.map((_, i) => [i + 1, i + 1, 0, ''])]);
    },
    duplicate: () => Promise.resolve(link),
    onStatus: () => () => undefined,
    up: true,
    close: () => Promise.resolve(),
  };
  return { link, calls };
}

const adapter: LivenessAdapter = { probe: () => undefined, kill: () => undefined };

function setup(down?: () => boolean) {
  const scheduler = new ManualScheduler();
  const liveness = createLivenessRegistry({ clock: scheduler.clock, scheduler, hosts: {} });
  const { link, calls } = fakeLink(down ? { down } : {});
  const writer = new PresenceWriter({
    link,
    liveness,
    clock: scheduler.clock,
    nodeId: 'n1',
    feedSize: 1000,
    logger: pino({ level: 'silent' }),
    figures: () => ({}),
    onFenced: () => undefined,
    count: () => undefined,
  });
  writer.resume(1);
  return { liveness, writer, calls };
}

describe('presence writer', () => {
  it('one APPLY per window, in order, meta merged into the online op', async () => {
    const { liveness, writer, calls } = setup();
    const a = liveness.track({ host: 'h', transport: 'mqtt', id: 'a' }, adapter, { onIdle: 'expire', idleMs: 0 });
    writer.setMeta(a.ref, { username: 'u' }, false);
    liveness.track({ host: 'h', transport: 'mqtt', id: 'b' }, adapter, { onIdle: 'expire', idleMs: 0 });
    await writer.idle();
    await until(() => calls.length > 0);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.map((o) => [o.o, o.k])).toEqual([['on', 'h|mqtt|a'], ['on', 'h|mqtt|b']]);
    expect(calls[0]![0]!.m).toEqual({ username: 'u' });
  });

  it('a connection that comes and goes in one window is written both ways while Redis answers', async () => {
    const { liveness, writer, calls } = setup();
    const h = liveness.track({ host: 'h', transport: 'mqtt', id: 'flash' }, adapter, { onIdle: 'expire', idleMs: 0 });
    h.untrack('client_close');
    await until(() => calls.flat().length === 2);
    await writer.idle();
    expect(calls.flat().map((o) => o.o)).toEqual(['on', 'off']);
  });

  it('while Redis is away, a connection that came and went is never written; the rest is, once it is back', async () => {
    let down = true;
    const { liveness, writer, calls } = setup(() => down);
    const stay = liveness.track({ host: 'h', transport: 'mqtt', id: 'stay' }, adapter, { onIdle: 'expire', idleMs: 0 });
    await new Promise((r) => setTimeout(r, 20)); // the first APPLY failed: the writer is retrying
    const h = liveness.track({ host: 'h', transport: 'mqtt', id: 'gone' }, adapter, { onIdle: 'expire', idleMs: 0 });
    h.untrack('client_close');
    down = false;
    await until(() => calls.length > 0, { capMs: 5_000, everyMs: 10 });
    await writer.idle();
    expect(calls.flat().map((o) => [o.o, o.k])).toEqual([['on', 'h|mqtt|stay']]);
    expect(stay.live).toBe(true);
  });
});
