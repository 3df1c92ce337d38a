/**
 * The direct 3.1/3.1.1 PUBLISH encoder (src/mqtt/deliver.ts encodePublish) writes the very bytes
 * mqtt-packet's generate writes, across QoS, flags, UTF-8 topics and Remaining Length sizes; an
 * expired message is not encoded [MQTT-3.3.2-6].
 */
import { generate } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { encodePublish } from '../../src/mqtt/deliver.js';
import type { Delivery, Message } from '../../src/mqtt/message.js';

const msg = (topic: string, size: number, expiresAt: number | null = null): Message => ({
  topic,
  payload: Buffer.alloc(size, 0x61),
  qos: 2,
  retain: false,
  properties: null,
  expiresAt,
  senderId: 'p',
});

describe('encodePublish (3.1.1)', () => {
  it('matches mqtt-packet byte for byte', () => {
    for (const topic of ['a', 'sensors/ü/温度', 'x'.repeat(300)]) {
      for (const size of [0, 1, 64, 120, 127, 128, 16_000, 16_383, 16_384, 70_000]) {
        for (const qos of [0, 1, 2] as const) {
          for (const [retain, dup] of [[false, false], [true, false], [false, true], [true, true]] as const) {
            const d: Delivery = { msg: msg(topic, size), qos, retain, subIds: null };
            const want = generate({ cmd: 'publish', topic, payload: d.msg.payload, qos, retain, dup, ...(qos > 0 ? { messageId: 0x1234 } : {}) });
            const got = encodePublish(4, d, 0x1234, dup, 0)!;
            expect(got.equals(want), `${topic.length} ${size} ${qos} ${retain} ${dup}`).toBe(true);
          }
        }
      }
    }
  });

  it('does not encode an expired message', () => {
    const d: Delivery = { msg: msg('t', 4, 1_000), qos: 1, retain: false, subIds: null };
    expect(encodePublish(4, d, 1, false, 999)).not.toBeNull();
    expect(encodePublish(4, d, 1, false, 1_000)).toBeNull();
    expect(encodePublish(5, d, 1, false, 1_000)).toBeNull();
  });
});
