/**
 * Building the outbound PUBLISH for one delivery (3.1.1 §3.3, 5.0 §3.3), pure.
 *   - v5 Message Expiry Interval is sent as the time left [MQTT-3.3.2-6]; an expired message is not sent;
 *   - v5 Subscription Identifiers of every matching subscription go along [MQTT-3.3.4-3];
 *   - v3 clients get no properties.
 * Identical QoS 0 PUBLISHes to many subscribers (same protocol family, same RETAIN flag, no
 * subscription id) are encoded once per routing pass: see EncodeCache.
 * 3.1/3.1.1 PUBLISH (no properties) is written directly (encodePublish), the same bytes as
 * mqtt-packet's generate without its per-packet stream and buffer list: QoS 1/2 fan-out encodes
 * one per subscriber (its own packet id). v5 goes through mqtt-packet.
 */
import { generate, type IPublishPacket } from 'mqtt-packet';
import type { Delivery } from './message.js';

export type Expired = null;

/** `alias`: 0 none, > 0 a new Topic Alias (sent with the topic), < 0 a known one (empty topic name): topic-alias-out.ts. */
export function publishPacket(version: number, d: Delivery, messageId: number, dup: boolean, nowMs: number, alias = 0): IPublishPacket | Expired {
  const { msg } = d;
  const pkt: IPublishPacket = {
    cmd: 'publish',
    topic: msg.topic,
    payload: msg.payload,
    qos: d.qos,
    retain: d.retain,
    dup,
  };
  if (d.qos > 0) pkt.messageId = messageId;
  if (msg.expiresAt !== null && nowMs >= msg.expiresAt) return null;
  if (version === 5) {
    let props = msg.properties ? { ...msg.properties } : null;
    if (msg.expiresAt !== null) (props ??= {}).messageExpiryInterval = Math.max(1, Math.ceil((msg.expiresAt - nowMs) / 1000));
    if (d.subIds) (props ??= {}).subscriptionIdentifier = d.subIds.length === 1 ? d.subIds[0]! : d.subIds;
    if (alias !== 0) {
      (props ??= {}).topicAlias = Math.abs(alias);
      if (alias < 0) pkt.topic = ''; // [MQTT-3.3.2-12]: the alias stands for the topic
    }
    if (props) pkt.properties = props;
  }
  return pkt;
}

/**
 * The PUBLISH of one delivery on the wire, or null when the message has expired [MQTT-3.3.2-6].
 * v3: fixed header (3.1.1 §3.3.1: DUP bit 3, QoS bits 2-1, RETAIN bit 0), Remaining Length
 * (§2.2.3), topic as a UTF-8 string with its 2-byte length (§1.5.3), Packet Identifier when
 * QoS > 0 (§3.3.2.2), payload.
 */
export function encodePublish(version: number, d: Delivery, messageId: number, dup: boolean, nowMs: number, alias = 0): Buffer | Expired {
  const { msg } = d;
  if (version === 5) {
    const pkt = publishPacket(version, d, messageId, dup, nowMs, alias);
    return pkt ? generate(pkt, { protocolVersion: 5 }) : null;
  }
  if (msg.expiresAt !== null && nowMs >= msg.expiresAt) return null;
  const topicLen = Buffer.byteLength(msg.topic);
  const remaining = 2 + topicLen + (d.qos > 0 ? 2 : 0) + msg.payload.length;
  const lenBytes = remaining < 128 ? 1 : remaining < 16_384 ? 2 : remaining < 2_097_152 ? 3 : 4;
  const buf = Buffer.allocUnsafe(1 + lenBytes + remaining);
  buf[0] = 0x30 | (dup ? 0x08 : 0) | (d.qos << 1) | (d.retain ? 1 : 0);
  let at = 1;
  for (let r = remaining; ; ) {
    const b = r & 0x7f;
    r >>>= 7;
    buf[at++] = r > 0 ? b | 0x80 : b;
    if (r === 0) break;
  }
  buf[at++] = topicLen >> 8;
  buf[at++] = topicLen & 0xff;
  at += buf.write(msg.topic, at, 'utf8');
  if (d.qos > 0) {
    buf[at++] = messageId >> 8;
    buf[at++] = messageId & 0xff;
  }
  msg.payload.copy(buf, at);
  return buf;
}

/** Encoded QoS 0 PUBLISH buffers of one routing pass, by protocol family and RETAIN flag. */
export class EncodeCache {
  private slots: (Buffer | null)[] = [null, null, null, null];
  constructor(private readonly nowMs: number) {}

  /** The encoded packet, or null when the message has expired. Only for QoS 0 without subscription ids. */
  get(version: number, d: Delivery): Buffer | null {
    const i = (version === 5 ? 2 : 0) + (d.retain ? 1 : 0);
    let buf = this.slots[i];
    if (buf === null || buf === undefined) {
      buf = encodePublish(version, d, 0, false, this.nowMs);
      if (!buf) return null;
      this.slots[i] = buf;
    }
    return buf;
  }
}
