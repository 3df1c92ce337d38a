/**
 * The MQTT session as the channel handlers see it (MQTT 5.0 §4.1). The session itself is the
 * session core's (src/mqtt-session/: pure MqttSession, queue, manager, durable writer); the
 * handlers call its SessionHandle, which satisfies ChannelSession. Outbound PUBLISH / PUBREL it
 * decides on go out through the connection (the SessionSink), not through the handler's Step.
 */
import type { QoS } from 'mqtt-packet';
import type { Qos2Verdict } from '../mqtt-session/types.js';

export interface SubOptions {
  qos: QoS;
  /** v5 No Local. */
  nl: boolean;
  /** v5 Retain As Published. */
  rap: boolean;
  /** v5 Retain Handling 0..2. */
  rh: number;
  /** v5 Subscription Identifier, or null. */
  subId: number | null;
}

/** What the handlers use of a SessionHandle<Delivery, SubOptions>. */
export interface ChannelSession {
  readonly session: { readonly subscriptions: ReadonlyMap<string, SubOptions> };
  /** PUBACK of our QoS 1: frees the slot, the queue drains through the sink. */
  puback(id: number): void;
  /** PUBREC of our QoS 2: PUBREL (or 0x92 for an unknown id) through the sink. */
  pubrec(id: number, reasonCode?: number): void;
  pubcomp(id: number): void;
  /** Inbound QoS 2 PUBLISH: accepted (route + PUBREC), duplicate (PUBREC only), refused. */
  receiveQos2(id: number): Qos2Verdict;
  /** Inbound PUBREL: whether the id was awaiting it. */
  pubrel(id: number): boolean;
  /** Returns whether the filter existed (Retain Handling 1). */
  subscribe(filter: string, opts: SubOptions): boolean;
  unsubscribe(filter: string): boolean;
}
