/**
 * Inbound PUBLISH (3.1.1 §3.3, 5.0 §3.3): topic alias resolution (v5 §3.3.2.3.4), topic name
 * validation, QoS and retain limits, ACL, then route and acknowledge.
 *   QoS 0: route.  QoS 1: route, PUBACK.  QoS 2: route at the first PUBLISH (EMQX's choice: the
 *   message goes to subscribers before PUBREL), the session keeps the id until PUBREL, PUBREC; a
 *   duplicate with an id still awaiting PUBREL is acknowledged again and not routed twice
 *   [MQTT-4.3.3-9]; past mqtt.max_awaiting_rel the session refuses it: v5 PUBREC 0x97 Quota exceeded (0x93 is
 *   not a PUBREC reason code, 5.0 §3.5.2.1, and mqtt-packet refuses to encode it), v3 PUBREC
 *   without routing (counted by the session).
 * The connection sends PUBACK / PUBREC only once the store writes of the routing are durable.
 * v5: a QoS 1/2 PUBLISH past the server's Receive Maximum closes with DISCONNECT 0x93
 * (receive-quota.ts); 3.1.1 has only max_awaiting_rel.
 * A denied publish is dropped; v5 clients learn it from the 0x87 reason code of PUBACK / PUBREC,
 * v3 clients get the normal acknowledgement (3.1.1 has no way to say no).
 */
import type { IPublishPacket } from 'mqtt-packet';
import { protocolClose, step, type Ctx, type Effect, type Step } from '../channel.js';
import { forwardableProperties, type Message } from '../message.js';
import { awaitRelease, exceedsQuota } from '../receive-quota.js';
import { RC } from '../reason-codes.js';
import { isValidTopicName } from '../topic.js';

export function handlePublish(ctx: Ctx, pkt: IPublishPacket): Step {
  const { st, session } = ctx;
  const mqtt = st.policy.mqtt;
  if (pkt.qos === 0 && pkt.dup) return protocolClose(st, RC.malformed); // [MQTT-3.3.1-2]
  if (pkt.properties?.subscriptionIdentifier !== undefined) return protocolClose(st, RC.protocolError); // [MQTT-3.3.4-6]
  let topic = pkt.topic;
  const alias = pkt.properties?.topicAlias;
  if (alias !== undefined) {
    if (alias === 0 || alias > mqtt.max_topic_alias) return protocolClose(st, RC.topicAliasInvalid); // [MQTT-3.3.2-8/9]
    if (topic === '') {
      const known = st.aliases?.get(alias);
      if (known === undefined) return protocolClose(st, RC.protocolError);
      topic = known;
    } else {
      (st.aliases ??= new Map()).set(alias, topic);
    }
  }
  if (!isValidTopicName(topic)) return protocolClose(st, RC.topicNameInvalid);
  if (pkt.qos > mqtt.max_qos) return protocolClose(st, RC.qosNotSupported); // [MQTT-3.2.2-11]
  if (pkt.retain && !mqtt.retain_available) return protocolClose(st, RC.retainNotSupported); // [MQTT-3.2.2-14]

  const id = pkt.messageId ?? 0;
  const v5 = st.version === 5;
  // The server's Receive Maximum (receive-quota.ts): one more unacknowledged QoS 1/2 -> 0x93.
  if (pkt.qos > 0 && st.quota && exceedsQuota(st.quota, pkt.qos, id)) return protocolClose(st, RC.receiveMaximumExceeded);
  const allowed = st.policy.acl.allows('publish', topic, { username: st.username, clientId: st.clientId });
  // A v5 PUBREC >= 0x80 ends the exchange (5.0 §4.3.3): a denied v5 QoS 2 keeps no id.
  if (pkt.qos === 2 && (allowed || !v5)) {
    const verdict = session.receiveQos2(id);
    if (verdict === 'duplicate') return step([{ type: 'send', packet: { cmd: 'pubrec', messageId: id } }]);
    if (verdict === 'accepted' && st.quota) awaitRelease(st.quota, id);
    if (verdict === 'refused') {
      return step([{ type: 'send', packet: v5 ? { cmd: 'pubrec', messageId: id, reasonCode: RC.quotaExceeded } : { cmd: 'pubrec', messageId: id } }]);
    }
  }
  const effects: Effect[] = [];
  if (allowed) {
    const expiry = pkt.properties?.messageExpiryInterval;
    const msg: Message = {
      topic,
      payload: typeof pkt.payload === 'string' ? Buffer.from(pkt.payload) : pkt.payload,
      qos: pkt.qos,
      retain: pkt.retain,
      properties: v5 ? forwardableProperties(pkt.properties) : null,
      expiresAt: expiry === undefined ? null : ctx.nowMs + expiry * 1000,
      senderId: st.clientId,
    };
    effects.push({ type: 'route', msg });
  } else {
    effects.push({ type: 'count', what: 'acl_denied' });
  }
  if (pkt.qos === 1) {
    effects.push({ type: 'send', packet: ack('puback', id, v5 && !allowed) });
  } else if (pkt.qos === 2) {
    effects.push({ type: 'send', packet: ack('pubrec', id, v5 && !allowed) });
  }
  return step(effects);
}

function ack(cmd: 'puback' | 'pubrec', messageId: number, denied: boolean): IPublishAck {
  return denied ? { cmd, messageId, reasonCode: RC.notAuthorized } : { cmd, messageId };
}

type IPublishAck = { cmd: 'puback' | 'pubrec'; messageId: number; reasonCode?: number };
