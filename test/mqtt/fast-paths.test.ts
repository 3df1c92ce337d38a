/**
 * The connection layer's fast paths and shared decoding (src/mqtt/connection.ts, decoder.ts) at
 * byte level: PINGREQ alone, several per chunk and split; PUBACK read from the frame; the
 * constant CONNACKs; a malformed packet on one connection leaves the shared parser sound for the
 * next; the will outlives the CONNECT's read chunk.
 */
import { generate, type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { HOST, rig, settle } from './harness.js';
import { duplexPair } from '../support/duplex-pair.js';

const connect = (clientId: string, version: 3 | 4 | 5 = 4, extra: Record<string, unknown> = {}): Buffer =>
  generate({ cmd: 'connect', protocolId: version === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: version, clientId, clean: true, keepalive: 2, ...extra } as Packet, { protocolVersion: version });

/** A raw client: every byte the server sent, and whether it closed. */
function rawClient(r: ReturnType<typeof rig>) {
  const [server, client] = duplexPair();
  r.service.handle(server, '10.0.0.9');
  const got: Buffer[] = [];
  const out = { closed: false, write: (b: Buffer) => client.write(b), drop: () => client.destroy(), bytes: () => Buffer.concat(got).toString('hex'), clear: () => (got.length = 0) };
  client.on('data', (b: Buffer) => got.push(Buffer.from(b)));
  client.on('end', () => (out.closed = true));
  client.on('close', () => (out.closed = true));
  return out;
}

describe('connection fast paths', () => {
  it('answers a lone PINGREQ chunk, several in one chunk and one split over two chunks; each keeps the client alive', async () => {
    const r = rig();
    const c = rawClient(r);
    c.write(connect('pinger'));
    await settle();
    expect(c.bytes()).toBe('20020000');
    c.clear();
    await r.advance(2_000);
    c.write(Buffer.from([0xc0, 0x00]));
    await settle();
    expect(c.bytes()).toBe('d000');
    await r.advance(2_000);
    c.write(Buffer.from([0xc0, 0x00, 0xc0, 0x00, 0xc0, 0x00]));
    await settle();
    expect(c.bytes()).toBe('d000'.repeat(4));
    await r.advance(2_000);
    c.write(Buffer.from([0xc0]));
    await settle();
    c.write(Buffer.from([0x00]));
    await settle();
    expect(c.bytes()).toBe('d000'.repeat(5));
    await r.advance(2_999); // 1.5 x Keep Alive after the last PINGREQ [MQTT-3.1.2-24]
    expect(c.closed).toBe(false);
    await r.advance(1);
    expect(c.closed).toBe(true);
  });

  it('a PINGREQ before CONNECT is a protocol error, not a fast-path answer', async () => {
    const r = rig();
    const c = rawClient(r);
    c.write(Buffer.from([0xc0, 0x00]));
    await settle();
    expect(c.bytes()).toBe('');
    expect(c.closed).toBe(true);
  });

  it('CONNACK of a 3.1 / 3.1.1 success is the bytes mqtt-packet would write, Session Present 0 and 1', async () => {
    const r = rig();
    for (const version of [3, 4] as const) {
      for (const present of [false, true]) {
        const c = rawClient(r); // the second connection of an id with clean: false finds its session
        c.write(connect(`ack-${version}`, version, { clean: false }));
        await settle();
        expect(c.bytes()).toBe(generate({ cmd: 'connack', returnCode: 0, sessionPresent: present }, { protocolVersion: version }).toString('hex'));
      }
    }
  });

  it('PUBACK read from the frame frees the inflight slot (3.1.1 and the 2-byte v5 form); a v5 PUBACK with a reason code goes through the decoder', async () => {
    for (const version of [4, 5] as const) {
      const r = rig({ mqtt: { max_inflight: 1 } });
      const sub = r.client(version);
      await sub.connect({}, 'sub');
      sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'q', qos: 1 }] });
      const pub = r.client(4);
      await pub.connect({}, 'pub');
      for (const n of [1, 2, 3]) pub.send({ cmd: 'publish', topic: 'q', payload: Buffer.from(`m${n}`), qos: 1, messageId: n, retain: false, dup: false });
      await settle();
      const first = sub.take('publish');
      expect(first.map((p) => p.payload.toString())).toEqual(['m1']);
      sub.raw(Buffer.from([0x40, 0x02, first[0]!.messageId! >> 8, first[0]!.messageId! & 0xff]));
      await settle();
      const second = sub.take('publish');
      expect(second.map((p) => p.payload.toString())).toEqual(['m2']);
      const id = second[0]!.messageId!;
      // v5: reason code 0x10 No matching subscribers, the decoder's way; 3.1.1: the 2-byte form again.
      sub.raw(version === 5 ? Buffer.from([0x40, 0x03, id >> 8, id & 0xff, 0x10]) : Buffer.from([0x40, 0x02, id >> 8, id & 0xff]));
      await settle();
      expect(sub.take('publish').map((p) => p.payload.toString())).toEqual(['m3']);
      expect(sub.closed).toBe(false);
    }
  });

  it('a malformed packet closes its connection (v5: 0x81); the shared parser then decodes the next connection\'s packets', async () => {
    const r = rig();
    const bad = r.client(5);
    await bad.connect({}, 'bad');
    // SUBSCRIBE whose topic length runs past the packet.
    bad.raw(Buffer.from([0x82, 0x06, 0x00, 0x01, 0x00, 0x00, 0x40, 0x61]));
    await settle();
    expect(bad.take('disconnect')[0]?.reasonCode).toBe(0x81);
    expect(bad.closed).toBe(true);
    const good = r.client(5);
    await good.connect({}, 'good');
    good.send({ cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: 'x/#', qos: 1, nl: false, rap: false, rh: 0 }] });
    await settle();
    expect(good.take('suback')[0]).toMatchObject({ messageId: 3, granted: [1] });
  });

  it('the will is a copy: reusing the CONNECT\'s read chunk does not change it', async () => {
    const r = rig();
    const watcher = r.client(4);
    await watcher.connect({}, 'watcher');
    watcher.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'will', qos: 0 }] });
    const c = rawClient(r);
    const chunk = connect('testament', 4, { will: { topic: 'will', payload: Buffer.from('last words'), qos: 0, retain: false } });
    c.write(chunk);
    await settle();
    chunk.fill(0x21); // the in-memory duplex hands the server this very buffer
    c.drop(); // an abrupt close: the will is published
    await settle();
    expect(watcher.take('publish').map((p) => p.payload.toString())).toEqual(['last words']);
    expect(r.presence.get({ host: HOST, transport: 'mqtt', id: 'testament' })?.last_disconnect_reason).toBe('socket_error');
  });
});
