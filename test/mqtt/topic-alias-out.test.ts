/**
 * Issue 12 item 6: outbound Topic Aliases (MQTT 5.0 §3.3.2.3.4). A v5 client that announces a Topic
 * Alias Maximum gets the topic once with an alias, then the alias with an empty topic name; never
 * an alias above its maximum [MQTT-3.3.2-10]; the least recently used one is replaced; off with
 * mqtt.topic_alias_out: false, and for clients that announce none.
 */
import type { IPublishPacket, Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { rig, settle } from './harness.js';

const publish = (topic: string, qos: 0 | 1): Packet => ({ cmd: 'publish', topic, payload: Buffer.from('x'), qos, retain: false, dup: false, ...(qos > 0 ? { messageId: 1 } : {}) });
const seen = (ps: IPublishPacket[]) => ps.map((p) => [p.topic, p.properties?.topicAlias ?? null]);

async function setup(mqtt: Record<string, unknown>, topicAliasMaximum: number | undefined) {
  const r = rig({ mqtt: { max_connection_rate_per_ip: 0, ...mqtt } });
  const sub = r.client(5);
  await sub.connect(topicAliasMaximum === undefined ? {} : { properties: { topicAliasMaximum } }, 'constrained');
  sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'sensors/#', qos: 1 }] });
  const pub = r.client(4, '10.0.0.2');
  await pub.connect({}, 'pub');
  return { sub, pub };
}

describe('outbound topic aliases', () => {
  it('the second message on a topic carries only its alias; QoS 0 and 1 alike; LRU replacement within the maximum of 2', async () => {
    const { sub, pub } = await setup({}, 2);
    for (const [t, q] of [['sensors/a/temperature', 0], ['sensors/a/temperature', 1], ['sensors/b', 1], ['sensors/a/temperature', 0], ['sensors/c', 1], ['sensors/b', 0], ['sensors/c', 1]] as const) pub.send(publish(t, q));
    await settle();
    expect(seen(sub.take('publish'))).toEqual([
      ['sensors/a/temperature', 1],
      ['', 1],
      ['sensors/b', 2],
      ['', 1], // a is now the most recently used: b is the oldest
      ['sensors/c', 2], // replaces b's alias
      ['sensors/b', 1], // b again: takes the alias of a, the oldest now
      ['', 2],
    ]);
  });

  it('none for a client that announces no maximum, nor with topic_alias_out: false', async () => {
    for (const [mqtt, max] of [[{}, undefined], [{ topic_alias_out: false }, 5]] as const) {
      const { sub, pub } = await setup(mqtt, max);
      pub.send(publish('sensors/x', 0));
      pub.send(publish('sensors/x', 1));
      await settle();
      expect(seen(sub.take('publish'))).toEqual([
        ['sensors/x', null],
        ['sensors/x', null],
      ]);
    }
  });
});
