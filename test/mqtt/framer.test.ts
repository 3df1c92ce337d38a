/**
 * The packet framer (src/mqtt/framer.ts) on its own: packet boundaries whatever the chunking,
 * the checks made as soon as the fixed header is known (reserved flags [MQTT-2.2.2-2], Remaining
 * Length of at most four bytes, maximum packet size), and that nothing of a chunk is kept.
 */
import { generate, type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { atBoundary, pushBytes, validFirstByte, type FrameError, type Framed } from '../../src/mqtt/framer.js';

class Collector implements Framed {
  pend: Buffer | null = null;
  pendFill = 0;
  held: Buffer[] | null = null;
  readonly frames: Buffer[] = [];
  error: FrameError | null = null;
  constructor(
    private readonly limit = 1 << 28,
    private readonly stopAfter = Infinity,
  ) {}
  push(chunk: Buffer): void {
    pushBytes(this, chunk);
  }
  get idle(): boolean {
    return atBoundary(this);
  }
  onFrame(packet: Buffer): void {
    this.frames.push(Buffer.from(packet));
  }
  frameLimit(): number {
    return this.limit;
  }
  onFrameError(err: FrameError): void {
    this.error = err;
  }
  framingStopped(): boolean {
    return this.error !== null || this.frames.length >= this.stopAfter;
  }
}

const packets: Packet[] = [
  { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'framer', clean: true, keepalive: 60, username: 'u', password: Buffer.from('p') },
  { cmd: 'publish', topic: 'a/b', payload: Buffer.from('hello'), qos: 1, messageId: 7, retain: false, dup: false },
  { cmd: 'puback', messageId: 7 },
  { cmd: 'pingreq' },
  { cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'x/#', qos: 1 }] },
  { cmd: 'publish', topic: 't', payload: Buffer.alloc(300, 1), qos: 0, retain: false, dup: false }, // 2 length bytes
  { cmd: 'publish', topic: 't', payload: Buffer.alloc(20_000, 2), qos: 0, retain: true, dup: false }, // 3 length bytes
  { cmd: 'pingreq' },
  { cmd: 'disconnect' },
];
const encoded = packets.map((p) => generate(p));
const stream = Buffer.concat(encoded);

/** Same packets, same bytes (Buffer.equals: vitest's deep equality walks buffers byte by byte). */
function sameFrames(got: Buffer[], want: Buffer[]): boolean {
  return got.length === want.length && got.every((b, i) => b.equals(want[i]!));
}

describe('packet framer', () => {
  it('finds every packet whatever the split: one cut at every byte offset', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const f = new Collector();
      f.push(stream.subarray(0, cut));
      f.push(stream.subarray(cut));
      expect(f.error).toBeNull();
      expect(sameFrames(f.frames, encoded)).toBe(true);
      expect(f.idle).toBe(true);
    }
  });

  it('finds every packet fed one byte at a time, and in chunks of 3 and 1000 bytes', () => {
    for (const size of [1, 3, 1000]) {
      const f = new Collector();
      for (let i = 0; i < stream.length; i += size) f.push(stream.subarray(i, i + size));
      expect(sameFrames(f.frames, encoded)).toBe(true);
      expect(f.idle).toBe(true);
    }
  });

  it('hands on several packets of one chunk in order, and stops once the receiver stops', () => {
    const f = new Collector();
    f.push(stream);
    expect(sameFrames(f.frames, encoded)).toBe(true);
    const g = new Collector(1 << 28, 2);
    g.push(stream);
    expect(sameFrames(g.frames, encoded.slice(0, 2))).toBe(true);
  });

  it('keeps no view of a read chunk while a packet is incomplete', () => {
    const f = new Collector();
    const big = encoded[6]!;
    const chunk = Buffer.from(big.subarray(0, 100));
    f.push(chunk);
    chunk.fill(0xee); // the socket layer may reuse or drop the chunk
    f.push(big.subarray(100));
    expect(sameFrames(f.frames, [big])).toBe(true);
    const h = new Collector();
    const head = Buffer.from([0x30]); // a partial fixed header
    h.push(head);
    head[0] = 0xee;
    h.push(encoded[5]!.subarray(1));
    expect(h.frames).toEqual([encoded[5]]);
  });

  it('refuses an oversize packet as soon as its fixed header is known', () => {
    const f = new Collector(1000);
    const big = encoded[6]!; // 20,000+ bytes
    f.push(big.subarray(0, 3)); // length not complete yet (3 length bytes)
    expect(f.error).toBeNull();
    f.push(big.subarray(3, 4));
    expect(f.error).toBe('too_large');
    expect(f.frames).toHaveLength(0);
    // The limit counts the whole packet on the wire: 2 + 998 fits 1000, 2 + 999 does not.
    const at = new Collector(1000);
    at.push(Buffer.concat([Buffer.from([0x30, 0xe6, 0x07]), Buffer.alloc(998)]));
    expect(at.error).toBe('too_large'); // 0x07e6 = 998: 1 + 2 + 998 = 1001 bytes
    const fits = new Collector(1001);
    fits.push(Buffer.concat([Buffer.from([0x30, 0xe6, 0x07]), Buffer.alloc(998)]));
    expect(fits.error).toBeNull();
    expect(fits.frames).toHaveLength(1);
  });

  it('refuses a Remaining Length of five bytes (at most four, 3.1.1 §2.2.3, 5.0 §1.5.5)', () => {
    const f = new Collector();
    f.push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]));
    expect(f.error).toBe('malformed');
    const split = new Collector();
    split.push(Buffer.from([0x30, 0xff, 0xff]));
    expect(split.error).toBeNull();
    split.push(Buffer.from([0xff, 0xff, 0x01]));
    expect(split.error).toBe('malformed');
    // Four bytes is the maximum: 268,435,455 announced, over any limit but well formed.
    const max = new Collector(1 << 20);
    max.push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]));
    expect(max.error).toBe('too_large');
  });

  it('checks the reserved flag bits of every packet type [MQTT-2.2.2-1/2] and PUBLISH QoS 3 [MQTT-3.3.1-4]', () => {
    const required: Record<number, number> = { 1: 0, 2: 0, 4: 0, 5: 0, 6: 2, 7: 0, 8: 2, 9: 0, 10: 2, 11: 0, 12: 0, 13: 0, 14: 0, 15: 0 };
    for (let type = 0; type < 16; type++) {
      for (let flags = 0; flags < 16; flags++) {
        const first = (type << 4) | flags;
        const want = type === 0 ? false : type === 3 ? (flags & 0x06) !== 0x06 : required[type] === flags;
        expect(validFirstByte(first), `type ${type} flags ${flags}`).toBe(want);
      }
    }
    const f = new Collector();
    f.push(Buffer.concat([encoded[3]!, Buffer.from([0x80, 0x00])])); // PINGREQ, then SUBSCRIBE with flags 0
    expect(f.frames).toEqual([encoded[3]]);
    expect(f.error).toBe('malformed');
    const q3 = new Collector();
    q3.push(Buffer.from([0x36]));
    expect(q3.error).toBe('malformed'); // refused on the first byte
  });
});
