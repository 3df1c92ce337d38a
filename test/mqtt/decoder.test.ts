/**
 * The shared decoders (src/mqtt/decoder.ts): one mqtt-packet parser per protocol family serves
 * every connection, so nothing of one packet may shape the next: a CONNECT's settings are put
 * back, an error replaces the parser.
 */
import { generate } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { PacketDecoder } from '../../src/mqtt/decoder.js';

/** SUBSCRIBE to `x` with options 0x04 (No Local): reserved bits set in 3.1.1 [MQTT-3.8.3-4]. */
const subscribeNoLocal = Buffer.from([0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 0x78, 0x04]);
/** The same in 5.0 (a Property Length 0 after the Packet Identifier), where 0x04 is No Local. */
const subscribeNoLocalV5 = Buffer.from([0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 0x78, 0x04]);

describe('shared packet decoder', () => {
  it('a CONNECT does not change how the family parser reads the next packet', () => {
    const d = new PacketDecoder();
    const v5Connect = generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'a', clean: true, keepalive: 10 }, { protocolVersion: 5 });
    const c = d.decode(v5Connect, 4); // CONNECT is always read by the 3.1.1 family
    expect(c).toMatchObject({ cmd: 'connect', protocolVersion: 5, clientId: 'a' });
    // mqtt-packet would now read as 5.0 (its settings became the CONNECT); the 3.1.1 family must not:
    // a PUBACK with a third byte is a reason code in 5.0 only.
    const puback = Buffer.from([0x40, 0x03, 0x00, 0x01, 0x10]);
    expect(d.decode(puback, 4)).toMatchObject({ cmd: 'puback', messageId: 1 });
    expect(d.decode(puback, 4)).not.toHaveProperty('reasonCode');
    expect(d.decode(puback, 5)).toMatchObject({ cmd: 'puback', messageId: 1, reasonCode: 0x10 });
    expect(d.decode(subscribeNoLocal, 4)).toBeInstanceOf(Error);
    expect(d.decode(subscribeNoLocalV5, 5)).toMatchObject({ cmd: 'subscribe', subscriptions: [{ topic: 'x', qos: 0, nl: true }] });
  });

  it('after a malformed packet the next one decodes as if nothing happened', () => {
    const d = new PacketDecoder();
    expect(d.decode(Buffer.from([0x82, 0x06, 0x00, 0x01, 0x00, 0x09, 0x78, 0x00]), 4)).toBeInstanceOf(Error); // topic runs past the packet
    const pub = generate({ cmd: 'publish', topic: 't', payload: Buffer.from('p'), qos: 1, messageId: 9, retain: false, dup: false });
    expect(d.decode(pub, 4)).toMatchObject({ cmd: 'publish', topic: 't', messageId: 9 });
    expect(d.decode(Buffer.from([0xc0, 0x00]), 4)).toMatchObject({ cmd: 'pingreq' });
  });
});
