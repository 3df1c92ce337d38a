/**
 * Checks mqtt-packet's parser lets through but the specs refuse, run before any handler:
 *   - SUBSCRIBE with no topic filter [MQTT-3.8.3-3] (5.0: "a SUBSCRIBE packet with no Payload is a
 *     Protocol Error", §3.8.3), UNSUBSCRIBE with none [MQTT-3.10.3-2];
 *   - a v5 property other than User Property and Subscription Identifier given more than once
 *     ("It is a Protocol Error to include ... more than once", 5.0 §3.1.2.11, §3.3.2.3 ...): the
 *     parser turns repeats into arrays, which the encoder cannot write back;
 *   - a property not valid for the packet type (5.0 §2.2.2.2: Malformed Packet); the broker
 *     forwards PUBLISH properties, so a stray one would reach other clients' encoders;
 *   - a property or User Property that is null (the parser yields null for a string running past
 *     the packet) or a User Property value that is not a string: Malformed Packet (5.0 §1.5.7).
 * Found by the fuzzer (test/robustness/regressions/mqtt): these reached the encoder when the
 * message was forwarded and failed there as internal errors.
 */
import type { Packet } from 'mqtt-packet';
import { RC } from '../reason-codes.js';

const REPEATABLE = new Set(['userProperties', 'subscriptionIdentifier']);

const ACK = ['reasonString', 'userProperties'];
/** Properties a client may send, per packet (5.0 §2.2.2.2 table; §3.1.3.2 for the will). */
const ALLOWED: Record<string, ReadonlySet<string>> = {
  connect: new Set(['sessionExpiryInterval', 'receiveMaximum', 'maximumPacketSize', 'topicAliasMaximum', 'requestResponseInformation', 'requestProblemInformation', 'userProperties', 'authenticationMethod', 'authenticationData']),
  will: new Set(['willDelayInterval', 'payloadFormatIndicator', 'messageExpiryInterval', 'contentType', 'responseTopic', 'correlationData', 'userProperties']),
  publish: new Set(['payloadFormatIndicator', 'messageExpiryInterval', 'topicAlias', 'responseTopic', 'correlationData', 'userProperties', 'subscriptionIdentifier', 'contentType']),
  puback: new Set(ACK),
  pubrec: new Set(ACK),
  pubrel: new Set(ACK),
  pubcomp: new Set(ACK),
  subscribe: new Set(['subscriptionIdentifier', 'userProperties']),
  unsubscribe: new Set(['userProperties']),
  disconnect: new Set(['sessionExpiryInterval', 'reasonString', 'userProperties', 'serverReference']),
  auth: new Set(['authenticationMethod', 'authenticationData', 'reasonString', 'userProperties']),
};

function badProperties(props: unknown, allowed: ReadonlySet<string> | undefined): number | null {
  if (props === undefined || props === null) return null;
  if (typeof props !== 'object') return RC.malformed;
  for (const [name, value] of Object.entries(props as Record<string, unknown>)) {
    // 5.0 §2.2.2.2: an identifier not valid for the packet type is a Malformed Packet.
    if (allowed && !allowed.has(name)) return RC.malformed;
    if (value === null) return RC.malformed;
    if (name === 'userProperties') {
      if (typeof value !== 'object' || value === null) return RC.malformed;
      for (const v of Object.values(value as Record<string, unknown>)) {
        const vs = Array.isArray(v) ? v : [v];
        if (vs.length === 0 || vs.some((x) => typeof x !== 'string')) return RC.malformed;
      }
    } else if (!REPEATABLE.has(name) && Array.isArray(value)) return RC.protocolError;
  }
  return null;
}

/** A reason code when the packet must close the connection, else null. */
export function illFormed(pkt: Packet): number | null {
  if (pkt.cmd === 'subscribe' && pkt.subscriptions.length === 0) return RC.protocolError; // [MQTT-3.8.3-3]
  if (pkt.cmd === 'unsubscribe' && pkt.unsubscriptions.length === 0) return RC.protocolError; // [MQTT-3.10.3-2]
  const props = (pkt as { properties?: unknown }).properties;
  const bad = badProperties(props, ALLOWED[pkt.cmd]);
  if (bad !== null) return bad;
  if (pkt.cmd === 'connect' && pkt.will) return badProperties(pkt.will.properties, ALLOWED.will);
  return null;
}
