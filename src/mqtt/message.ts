/**
 * An application message inside the broker, independent of the packet it came in or goes out in.
 * Properties are the MQTT 5 application properties forwarded as they are (forwardableProperties:
 * user properties, content type, response topic, correlation data, payload format), without the
 * per-hop ones (topic alias, subscription identifier) and without message expiry, which is kept as
 * an absolute deadline instead.
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
  /** The shared subscription group it was delivered through (router.ts `redeliver`). */
  share?: string;
}

/**
 * The application properties a message carries from its PUBLISH (or will) to every PUBLISH it goes
 * out in, an allow-list: Payload Format Indicator [MQTT-3.3.2-4], Content Type [MQTT-3.3.2-20],
 * Response Topic [MQTT-3.3.2-15], Correlation Data [MQTT-3.3.2-16], User Property
 * [MQTT-3.3.2-17/18]. The will's own properties (5.0 §3.1.3.2) are the same five plus Will Delay
 * Interval (not a PUBLISH property: Eclipse Paho's reference client drops the connection on it)
 * and Message Expiry Interval; PUBLISH adds Topic Alias and Subscription Identifier (per hop).
 * Message Expiry is kept as a deadline (`expiresAt`) and sent as the time left [MQTT-3.3.2-6].
 * Whatever else a packet, the store or an older version put there is left behind. Null when
 * nothing is left.
 */
export function forwardableProperties(p: Readonly<Record<string, unknown>> | null | undefined): PublishProperties | null {
  if (!p) return null;
  let out: PublishProperties | null = null;
  for (const k of FORWARDED) {
    const v = p[k];
    if (v !== undefined && v !== null) (out ??= {})[k] = v as never;
  }
  return out;
}

const FORWARDED = ['payloadFormatIndicator', 'contentType', 'responseTopic', 'correlationData', 'userProperties'] as const satisfies readonly (keyof PublishProperties)[];
