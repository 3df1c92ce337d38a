/**
 * Issue 12 item 1: acknowledgements in their short form. A v5 PUBACK / PUBREC / PUBREL / PUBCOMP
 * with reason 0x00 and no properties has Remaining Length 2 (5.0 §3.4.2.1, §3.5.2.1, §3.6.2.1,
 * §3.7.2.1), DISCONNECT 0x00 without properties Remaining Length 0 (§3.14.2.1): Paho Python 1.6.1
 * reads exactly two bytes of a v5 PUBREL. Real client: test/mqtt/clients/paho_roundtrip.py.
 */
import { describe, expect, it } from 'vitest';
import { shortForm } from '../../src/mqtt/short-acks.js';
import { rig, settle, type TestClient } from './harness.js';

/** Every packet the client received, as [first byte, Remaining Length] pairs (all fit in one length byte here). */
function frames(c: TestClient): [number, number][] {
  const all = Buffer.concat(c.bytes);
  const out: [number, number][] = [];
  for (let i = 0; i < all.length; ) {
    const len = all[i + 1]!;
    out.push([all[i]!, len]);
    i += 2 + len;
  }
  return out;
}

describe('short acknowledgements', () => {
  it('v5 QoS 2 in both directions: PUBREC, PUBREL and PUBCOMP are 4 bytes; QoS 1 PUBACK too', async () => {
    const r = rig();
    const sub = r.client(5);
    await sub.connect({}, 'sub');
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't', qos: 2 }] });
    const pub = r.client(5);
    await pub.connect({}, 'pub');
    pub.bytes.length = 0;
    pub.send({ cmd: 'publish', topic: 't', payload: Buffer.from('x'), qos: 2, retain: false, dup: false, messageId: 7 });
    await settle();
    sub.bytes.length = 0;
    // The server's QoS 2 delivery to `sub`: PUBREC from the subscriber -> PUBREL (short) from the server.
    const [delivery] = sub.take('publish');
    sub.send({ cmd: 'pubrec', messageId: delivery!.messageId! });
    pub.send({ cmd: 'pubrel', messageId: 7 });
    pub.send({ cmd: 'publish', topic: 'q1', payload: Buffer.from('y'), qos: 1, retain: false, dup: false, messageId: 8 });
    await settle();
    expect(frames(pub)).toEqual([[0x50, 2], [0x70, 2], [0x40, 2]]); // PUBREC, PUBCOMP, PUBACK
    expect(frames(sub)).toEqual([[0x62, 2]]); // PUBREL
  });

  it('the long form stays for a reason code or properties; DISCONNECT 0x00 is two bytes', () => {
    expect(shortForm({ cmd: 'pubrec', messageId: 1, reasonCode: 0x97 })).toBeNull();
    expect(shortForm({ cmd: 'puback', messageId: 1, properties: { reasonString: 'no' } })).toBeNull();
    expect(shortForm({ cmd: 'pubcomp', messageId: 0x1234, properties: {} })).toEqual(Buffer.from([0x70, 2, 0x12, 0x34]));
    expect(shortForm({ cmd: 'disconnect', reasonCode: 0 })).toEqual(Buffer.from([0xe0, 0]));
    expect(shortForm({ cmd: 'disconnect', reasonCode: 0x8e })).toBeNull();
    expect(shortForm({ cmd: 'suback', messageId: 1, granted: [0] })).toBeNull();
  });
});
