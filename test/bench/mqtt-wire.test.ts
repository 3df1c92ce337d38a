/**
 * The load generator's MQTT framer (bench/suite/mqtt-wire.ts): packets split at every byte,
 * several per chunk and long remaining lengths come out whole, in order, with the right packet id.
 */
import { describe, expect, it } from 'vitest';
import { MqttFramer, pubackPacket, publishPacket, publishPacketId, TYPE } from '../../bench/suite/mqtt-wire.js';
import { quantile } from '../../bench/suite/common.js';

function frames(chunks: Buffer[]): { type: number; flags: number; body: Buffer }[] {
  const out: { type: number; flags: number; body: Buffer }[] = [];
  const f = new MqttFramer((type, flags, body) => out.push({ type, flags, body: Buffer.from(body) }));
  for (const c of chunks) f.push(c);
  return out;
}

describe('MqttFramer', () => {
  const big = publishPacket('t/big', Buffer.alloc(20_000, 1), 1, 513); // 3-byte remaining length
  const small = publishPacket('a', Buffer.from('x'), 0);
  const ack = pubackPacket(65_535);
  const stream = Buffer.concat([small, big, ack, Buffer.from([0xd0, 0x00])]);

  it('frames packets several to a chunk', () => {
    const got = frames([stream]);
    expect(got.map((g) => g.type)).toEqual([TYPE.PUBLISH, TYPE.PUBLISH, TYPE.PUBACK, TYPE.PINGRESP]);
    expect(publishPacketId(got[1]?.body ?? Buffer.alloc(0))).toBe(513);
    expect(((got[1]?.flags ?? 0) >> 1) & 3).toBe(1);
    expect(got[2]?.body.readUInt16BE(0)).toBe(65_535);
  });

  it('frames the same packets when the stream is cut at every byte', () => {
    const got = frames([...stream].map((b) => Buffer.from([b])));
    expect(got.map((g) => g.body.length)).toEqual(frames([stream]).map((g) => g.body.length));
  });
});

describe('quantile', () => {
  it('takes the lower element at the rank', () => {
    expect(quantile([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(quantile([], 0.5)).toBeNaN();
  });
});
