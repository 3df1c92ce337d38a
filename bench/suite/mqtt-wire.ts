/**
 * MQTT 3.1.1 on raw sockets for the load generator: packets are encoded once with mqtt-packet, and
 * incoming bytes are only framed (fixed header + remaining length, MQTT 3.1.1 §2.2) so that the
 * generator spends as little CPU as possible per received packet; for PUBLISH QoS 1 the packet id
 * is read to send the PUBACK.
 */
import { connect, type Socket } from 'node:net';
import { generate } from 'mqtt-packet';

export const TYPE = { CONNACK: 2, PUBLISH: 3, PUBACK: 4, SUBACK: 9, PINGRESP: 13 } as const;
export const PINGREQ = Buffer.from([0xc0, 0x00]);

export function connectPacket(clientId: string, keepalive: number, clean = true): Buffer {
  return generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean, clientId, keepalive });
}

export function subscribePacket(topic: string, qos: 0 | 1, messageId = 1): Buffer {
  return generate({ cmd: 'subscribe', messageId, subscriptions: [{ topic, qos }] });
}

export function publishPacket(topic: string, payload: Buffer, qos: 0 | 1, messageId = 1): Buffer {
  return generate({ cmd: 'publish', topic, payload, qos, messageId, retain: false, dup: false });
}

export function pubackPacket(messageId: number): Buffer {
  return Buffer.from([0x40, 0x02, messageId >> 8, messageId & 0xff]);
}

/**
 * Incremental framer: feed chunks, get (type, flags, body) per complete packet through `onPacket`.
 * `body` is a view into the chunk (or into a joined buffer) valid only during the call.
 */
export class MqttFramer {
  private rest: Buffer | null = null;

  constructor(private readonly onPacket: (type: number, flags: number, body: Buffer) => void) {}

  push(chunk: Buffer): void {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = null;
    let off = 0;
    while (off < buf.length) {
      if (buf.length - off < 2) break;
      let len = 0;
      let mul = 1;
      let i = off + 1;
      let complete = false;
      for (; i < buf.length && i < off + 5; i++) {
        const b = buf[i] ?? 0;
        len += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) {
          complete = true;
          i++;
          break;
        }
      }
      if (!complete || i + len > buf.length) break;
      const h = buf[off] ?? 0;
      this.onPacket(h >> 4, h & 0x0f, buf.subarray(i, i + len));
      off = i + len;
    }
    if (off < buf.length) this.rest = Buffer.from(buf.subarray(off));
  }
}

/** Packet id of a PUBLISH body with QoS > 0 (topic length, topic, then the id). */
export function publishPacketId(body: Buffer): number {
  const tl = ((body[0] ?? 0) << 8) | (body[1] ?? 0);
  return ((body[2 + tl] ?? 0) << 8) | (body[3 + tl] ?? 0);
}

/** A connected MQTT 3.1.1 client socket (resolves on CONNACK); later packets go to `onPacket`. */
export function openMqtt(port: number, id: string, onPacket: (type: number, flags: number, body: Buffer) => void, clean = true): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    sock.setNoDelay(true);
    let ready = false;
    const framer = new MqttFramer((type, flags, body) => {
      if (!ready && type === TYPE.CONNACK) {
        ready = true;
        resolve(sock);
      } else onPacket(type, flags, body);
    });
    sock.on('data', (d: Buffer) => framer.push(d));
    sock.on('error', (e) => (ready ? undefined : reject(e)));
    sock.on('connect', () => sock.write(connectPacket(id, 600, clean)));
  });
}
