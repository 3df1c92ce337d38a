/**
 * The store form of the MQTT channel's Delivery (src/mqtt/message.ts): one message on its way to
 * one subscriber. `expiresAt` is kept as it is, so it must be wall-clock ms, like every deadline
 * the session core persists (src/mqtt-session/types.ts). It belongs to the MQTT side, which
 * hands it to the session core's durable writer (broker-sessions.ts): the core knows no Delivery.
 */
import { forwardableProperties, type Delivery } from './message.js';
import type { MessageCodec } from '../mqtt-session/durable.js';

export const deliveryCodec: MessageCodec<Delivery> = {
  encode: (d) => ({
    topic: d.msg.topic,
    payload: d.msg.payload,
    qos: d.qos,
    retain: d.retain,
    properties: d.msg.properties as Record<string, unknown> | null,
    expiresAt: d.msg.expiresAt,
    senderId: d.msg.senderId,
    subIds: d.subIds,
  }),
  decode: (s) => ({
    msg: {
      topic: s.topic,
      payload: s.payload,
      // The QoS of the original PUBLISH is not kept: the delivery QoS bounds every use of it.
      qos: s.qos,
      retain: s.retain,
      properties: forwardableProperties(s.properties),
      expiresAt: s.expiresAt,
      senderId: s.senderId,
    },
    qos: s.qos,
    retain: s.retain,
    subIds: s.subIds,
  }),
};
