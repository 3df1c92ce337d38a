/**
 * Building the outbound PUBLISH for one delivery (3.1.1 §3.3, 5.0 §3.3), pure.
 *   - v5 Message Expiry Interval is sent as the time left [MQTT-3.3.2-6]; an expired message is not sent;
 *   - v5 Subscription Identifiers of every matching subscription go along [MQTT-3.3.4-3];
 *   - v3 clients get no properties.
 * Identical QoS 0 PUBLISHes to many subscribers (same protocol family, same RETAIN flag, no
 * subscription id) are encoded once per routing pass: see EncodeCache.
 */
import { generate, type IPublishPacket } from 'mqtt-packet';
import type { Delivery } from './message.js';

export type Expired = null;

export function publishPacket(version: number, d: Delivery, messageId: number, dup: boolean, nowMs: number): IPublishPacket | Expired {
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
    if (props) pkt.properties = props;
  }
  return pkt;
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
      const pkt = publishPacket(version, d, 0, false, this.nowMs);
      if (!pkt) return null;
      buf = generate(pkt, { protocolVersion: version === 5 ? 5 : 4 });
      this.slots[i] = buf;
    }
    return buf;
  }
}
