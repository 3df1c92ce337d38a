import { describe, expect, it } from 'vitest';
import { MQueue, type QueueOptions } from '../../src/mqtt-session/mqueue.js';
import { MqttSession } from '../../src/mqtt-session/session-state.js';
import { drops, limits, msg, sent, type TestMsg } from './fixtures.js';

function queue(over: Partial<QueueOptions> = {}) {
  return new MQueue<TestMsg>({ maxLen: 3, storeQos0: true, priorities: {}, defaultPriority: 'lowest', ...over });
}

const names = (q: MQueue<TestMsg>) => q.entries().map((e) => e.msg.name);

function drain(q: MQueue<TestMsg>): string[] {
  const out: string[] = [];
  for (let e = q.out(); e; e = q.out()) out.push(e.msg.name);
  return out;
}

describe('mqueue drop rules', () => {
  it('is a FIFO without priorities', () => {
    const q = queue({ maxLen: 10 });
    for (const n of ['a', 'b', 'c']) q.in(msg(n));
    expect(drain(q)).toEqual(['a', 'b', 'c']);
    expect(q.length).toBe(0);
  });

  it('drops the oldest QoS 0 first when full, keeping QoS 1/2 (rule 3)', () => {
    const q = queue();
    q.in(msg('a', 1));
    q.in(msg('z0', 0));
    q.in(msg('b', 1));
    const r = q.in(msg('c', 2));
    expect(r.queued?.msg.name).toBe('c');
    expect(r.queued && r.evicted?.msg.name).toBe('z0');
    expect(names(q)).toEqual(['a', 'b', 'c']);
  });

  it('drops an arriving QoS 0 when full of QoS 1/2 (rule 4), else the oldest (rule 5)', () => {
    const q = queue();
    for (const n of ['a', 'b', 'c']) q.in(msg(n));
    expect(q.in(msg('z', 0))).toEqual({ queued: null, refused: 'queue_full' });
    const r = q.in(msg('d'));
    expect(r.queued && r.evicted?.msg.name).toBe('a');
    expect(names(q)).toEqual(['b', 'c', 'd']);
  });

  it('does not queue QoS 0 when store_qos0 is false (rule 2), nor anything at max_len 0 (rule 1)', () => {
    expect(queue({ storeQos0: false }).in(msg('z', 0))).toEqual({ queued: null, refused: 'qos0_not_queued' });
    expect(queue({ maxLen: 0 }).in(msg('a'))).toEqual({ queued: null, refused: 'queue_full' });
  });

  it('survives many evictions with lazy removal (length stays exact)', () => {
    const q = queue({ maxLen: 100 });
    for (let i = 0; i < 10_000; i++) q.in(msg(`m${i}`, (i % 3) as 0 | 1 | 2));
    expect(q.length).toBe(100);
    const left = drain(q);
    expect(left).toHaveLength(100);
    // QoS 0 went first, then arriving QoS 0 was refused: the newest QoS 1/2 messages remain.
    expect(left.every((n) => Number(n.slice(1)) % 3 !== 0)).toBe(true);
    expect(left.at(-1)).toBe('m9998');
  });
});

describe('mqueue priorities', () => {
  const prio = { priorities: { alarm: 10, info: 1 }, maxLen: 4 };

  it('takes higher priorities first, FIFO inside one', () => {
    const q = queue(prio);
    q.in(msg('d1', 1, 'other'));
    q.in(msg('i1', 1, 'info'));
    q.in(msg('a1', 1, 'alarm'));
    q.in(msg('a2', 1, 'alarm'));
    expect(drain(q)).toEqual(['a1', 'a2', 'i1', 'd1']);
  });

  it('evicts the oldest of the lowest priority, and refuses a message less important than all queued', () => {
    const q = queue(prio);
    q.in(msg('i1', 1, 'info'));
    q.in(msg('i2', 1, 'info'));
    q.in(msg('a1', 1, 'alarm'));
    q.in(msg('a2', 1, 'alarm'));
    expect(q.in(msg('d1', 1, 'other'))).toEqual({ queued: null, refused: 'queue_full' });
    const r = q.in(msg('a3', 1, 'alarm'));
    expect(r.queued && r.evicted?.msg.name).toBe('i1');
    expect(drain(q)).toEqual(['a1', 'a2', 'a3', 'i2']);
  });

  it('puts unlisted topics first with default priority highest', () => {
    const q = queue({ ...prio, defaultPriority: 'highest' });
    q.in(msg('a1', 1, 'alarm'));
    q.in(msg('d1', 1, 'other'));
    expect(drain(q)).toEqual(['d1', 'a1']);
  });
});

describe('session queue drops', () => {
  it('counts every drop per session and reports it as an effect', () => {
    const s = new MqttSession<TestMsg>(limits({ maxMqueueLen: 2 }), true);
    s.deliver(msg('z', 0), 0);
    s.deliver(msg('a'), 0);
    expect(drops(s.deliver(msg('b'), 0))).toEqual(['queue_full z']);
    expect(drops(s.deliver(msg('y', 0), 0))).toEqual(['queue_full y']);
    expect(drops(s.deliver(msg('c'), 0))).toEqual(['queue_full a']);
    expect(s.figures()).toMatchObject({ queued: 2, dropped: 3, droppedQueueFull: 3 });
    const off = new MqttSession<TestMsg>(limits({ mqueueStoreQos0: false }), true);
    expect(drops(off.deliver(msg('z', 0), 0))).toEqual(['qos0_not_queued z']);
    expect(off.figures().droppedQos0).toBe(1);
    expect(sent(s.attach({ version: 5 }, 0))).toEqual(['publish 1 b', 'publish 2 c']);
  });
});
