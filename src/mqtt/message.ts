/**
 * An application message inside the broker, independent of the packet it came in or goes out in.
 * Properties are MQTT 5 properties forwarded as they are (user properties, content type, response
 * topic, correlation data, payload format), without the per-hop ones (topic alias, subscription
 * identifier, message expiry, which is kept as an absolute deadline instead).
 */
import type { IPublishPacket, QoS } from 'mqtt-packet';

export type PublishProperties = NonNullable<IPublishPacket['properties']>;

export interface Message {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  properties: PublishProperties | null;
  /** Wall-clock ms after which the message is not delivered (v5 Message Expiry Interval), or null. */
  expiresAt: number | null;
  /** Client id of the publisher (v5 No Local), '' for server-made messages. */
  senderId: string;
}

/** One message on its way to one subscriber. */
export interface Delivery {
  msg: Message;
  /** min(message QoS, granted QoS). */
  qos: QoS;
  /** RETAIN flag of the outgoing PUBLISH (retained on subscribe, or Retain As Published). */
  retain: boolean;
  /** v5 Subscription Identifiers of the matching subscriptions, or null. */
  subIds: number[] | null;
}

/** Properties worth forwarding: everything but the per-hop ones. Null when nothing is left. */
export function forwardableProperties(p: IPublishPacket['properties']): PublishProperties | null {
  if (!p) return null;
  let out: PublishProperties | null = null;
  for (const k of Object.keys(p) as (keyof PublishProperties)[]) {
    if (k === 'topicAlias' || k === 'subscriptionIdentifier' || k === 'messageExpiryInterval') continue;
    (out ??= {})[k] = p[k] as never;
  }
  return out;
}
