/**
 * CONNECT (MQTT 3.1.1 §3.1, 5.0 §3.1) as a named list of steps, each either refusing with the
 * right CONNACK code or adding to the negotiated connection (emqttd's validate -> auth -> session
 * order). Session Present is filled in by the connection layer once the session is found
 * [MQTT-3.2.2-1..3]; a refused CONNECT always has Session Present 0 [MQTT-3.2.2-4].
 * The will is validated here but published by the connection layer on close.
 */
import { OutboundAliases } from '../topic-alias-out.js';
import type { IConnackPacket, IConnectPacket } from 'mqtt-packet';
import { RC, V3 } from '../reason-codes.js';
import type { ChannelEnv, Connected, HostPolicy, MqttHostOptions, ProtocolVersion, Step, Will } from '../channel.js';
import { forwardableProperties } from '../message.js';
import { receiveQuota } from '../receive-quota.js';
import { isValidTopicName } from '../topic.js';

interface Draft {
  pkt: IConnectPacket;
  version: ProtocolVersion;
  clientId: string;
  assigned: boolean;
  policy: HostPolicy | null;
  username: string | null;
  keepalive: number;
  serverKeepAlive: boolean;
  will: Will | null;
}

/** A refusal: v3 return code and v5 reason code. */
interface Refusal {
  v3: number;
  v5: number;
  failure?: 'auth_failure';
}

type Check = (d: Draft, env: ChannelEnv) => Refusal | null;

const checkClientId: Check = (d, env) => {
  if (d.clientId.includes('\u0000') || d.clientId.includes('\ufffd')) return { v3: V3.identifierRejected, v5: RC.clientIdNotValid };
  if (d.clientId !== '') return null;
  // Empty id: only with clean session (3.1.1) [MQTT-3.1.3-7/8]; always allowed in v5 with an assigned id [MQTT-3.1.3-6].
  if (d.version === 3 || (d.version === 4 && !d.pkt.clean)) return { v3: V3.identifierRejected, v5: RC.clientIdNotValid };
  d.clientId = env.newClientId();
  d.assigned = true;
  return null;
};

/** v5 enhanced authentication (AUTH exchanges, 5.0 §4.12) is not offered: Bad Authentication Method 0x8C. */
const checkAuthMethod: Check = (d) =>
  d.version === 5 && d.pkt.properties?.authenticationMethod !== undefined ? { v3: V3.notAuthorized, v5: RC.badAuthMethod } : null;

const checkCredentials: Check = (d, env) => {
  const { policy, user } = env.resolveHost(d.pkt.username ?? null);
  d.policy = policy;
  d.username = user;
  if (user === null) {
    // 3.1.1: a password without a username is not allowed [MQTT-3.1.2-22]; v5 allows it (anonymous then).
    if (d.pkt.password !== undefined && d.version !== 5) return { v3: V3.badCredentials, v5: RC.badCredentials, failure: 'auth_failure' };
    return policy.mqtt.allow_anonymous ? null : { v3: V3.notAuthorized, v5: RC.notAuthorized, failure: 'auth_failure' };
  }
  const password = d.pkt.password;
  if (password === undefined || !env.authenticate(policy.host, user, password)) {
    return { v3: V3.badCredentials, v5: RC.badCredentials, failure: 'auth_failure' };
  }
  return null;
};

const checkKeepalive: Check = (d) => {
  const max = d.policy!.mqtt.max_keepalive;
  if (max === 0 || (d.keepalive !== 0 && d.keepalive <= max)) return null;
  // v5: impose Server Keep Alive [MQTT-3.2.2-21]; v3 cannot be told, refuse (Mosquitto's choice).
  if (d.version !== 5) return { v3: V3.identifierRejected, v5: RC.implementationSpecific };
  d.keepalive = max;
  d.serverKeepAlive = true;
  return null;
};

const checkWill: Check = (d) => {
  const w = d.pkt.will;
  if (!w) return null;
  const mqtt = d.policy!.mqtt;
  if (!isValidTopicName(w.topic)) return { v3: V3.identifierRejected, v5: RC.topicNameInvalid };
  if ((w.qos ?? 0) > mqtt.max_qos) return { v3: V3.notAuthorized, v5: RC.qosNotSupported }; // [MQTT-3.2.2-12]
  if (w.retain && !mqtt.retain_available) return { v3: V3.notAuthorized, v5: RC.retainNotSupported }; // [MQTT-3.2.2-13]
  const p = w.properties;
  // The will lives as long as the connection: copies, not views of the CONNECT's read chunk.
  const properties = forwardableProperties(p);
  if (properties?.correlationData) properties.correlationData = Buffer.from(properties.correlationData);
  d.will = {
    topic: w.topic,
    payload: typeof w.payload === 'string' ? Buffer.from(w.payload) : Buffer.from(w.payload),
    qos: w.qos ?? 0,
    retain: w.retain ?? false,
    properties,
    delayS: p?.willDelayInterval ?? 0,
    expiryS: p?.messageExpiryInterval ?? null,
  };
  return null;
};

/** The steps, in order. */
export const CONNECT_STEPS: readonly (readonly [string, Check])[] = [
  ['client_id', checkClientId],
  ['auth_method', checkAuthMethod],
  ['credentials', checkCredentials],
  ['keepalive', checkKeepalive],
  ['will', checkWill],
];

export function handleConnect(pkt: IConnectPacket, env: ChannelEnv): Step {
  const version = (pkt.protocolVersion ?? 4) as ProtocolVersion;
  const d: Draft = {
    pkt,
    version,
    clientId: pkt.clientId,
    assigned: false,
    policy: null,
    username: null,
    keepalive: pkt.keepalive ?? 0,
    serverKeepAlive: false,
    will: null,
  };
  for (const [, check] of CONNECT_STEPS) {
    const refusal = check(d, env);
    if (refusal) return refuse(version, refusal);
  }
  const policy = d.policy!;
  const mqtt = policy.mqtt;
  const props = pkt.properties;
  const st: Connected = {
    phase: 'connected',
    version,
    clientId: d.clientId,
    username: d.username,
    policy,
    keepalive: d.keepalive,
    cleanStart: pkt.clean ?? true,
    will: d.will,
    sessionExpiryS: version === 5 ? capSessionExpiry(props?.sessionExpiryInterval ?? 0, mqtt) : pkt.clean === false ? 0xffffffff : 0,
    window: Math.min(mqtt.max_inflight, props?.receiveMaximum ?? 65_535),
    maxPacketOut: props?.maximumPacketSize ?? 0,
    aliases: null,
    // Outbound Topic Aliases up to the client's Topic Alias Maximum (5.0 §3.3.2.3.4, [MQTT-3.3.2-10]).
    aliasesOut: version === 5 && mqtt.topic_alias_out && (props?.topicAliasMaximum ?? 0) > 0 ? new OutboundAliases(props!.topicAliasMaximum!) : null,
    quota: receiveQuota(version, mqtt.max_awaiting_rel),
  };
  const connack: IConnackPacket = { cmd: 'connack', sessionPresent: false };
  if (version === 5) {
    connack.reasonCode = RC.success;
    const p: NonNullable<IConnackPacket['properties']> = {
      maximumPacketSize: mqtt.max_packet_size,
      topicAliasMaximum: mqtt.max_topic_alias,
      // Shared Subscription Available: absent means 1, supported (5.0 §3.2.2.3.15).
    };
    if (d.assigned) p.assignedClientIdentifier = d.clientId; // [MQTT-3.2.2-16]
    // The server's own Session Expiry when it differs from the client's (5.0 §3.2.2.3.2).
    if (st.sessionExpiryS !== (props?.sessionExpiryInterval ?? 0)) p.sessionExpiryInterval = st.sessionExpiryS;
    if (d.serverKeepAlive) p.serverKeepAlive = d.keepalive; // [MQTT-3.2.2-21]
    if (mqtt.max_qos < 2) p.maximumQoS = mqtt.max_qos;
    if (st.quota) p.receiveMaximum = st.quota.max; // 5.0 §3.2.2.3.3 (absent: 65,535)
    if (!mqtt.retain_available) p.retainAvailable = false;
    connack.properties = p;
  } else {
    connack.returnCode = V3.accepted;
  }
  return { next: st, effects: [{ type: 'open', connack }] };
}

/**
 * A v5 Session Expiry Interval under the host's `max_session_expiry` (0 = no cap): the interval the
 * session, and a delayed will with it (v5 §3.1.3.2.2), actually lives by.
 */
export function capSessionExpiry(askedS: number, mqtt: Pick<MqttHostOptions, 'max_session_expiry'>): number {
  const cap = mqtt.max_session_expiry;
  return cap > 0 && askedS > cap ? cap : askedS;
}

function refuse(version: ProtocolVersion, r: Refusal): Step {
  const connack: IConnackPacket =
    version === 5
      ? { cmd: 'connack', sessionPresent: false, reasonCode: r.v5 }
      : { cmd: 'connack', sessionPresent: false, returnCode: r.v3 };
  const effects: Step['effects'] = [];
  if (r.failure) effects.push({ type: 'count', what: r.failure });
  effects.push({ type: 'send', packet: connack }, { type: 'close', reason: 'protocol_error', code: null, will: false });
  return { next: { phase: 'closed' }, effects };
}
