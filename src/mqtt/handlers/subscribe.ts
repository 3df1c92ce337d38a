/**
 * SUBSCRIBE (3.1.1 §3.8, 5.0 §3.8): per filter, validate (a shared filter's ShareName too), the
 * ACL (on a shared filter: without its `$share/{name}/` prefix), grant min(requested, max_qos); then SUBACK with one code per filter, in order
 * [MQTT-3.8.4-6], and the 'subscribed' effect (trie update, retained delivery per Retain Handling).
 * A filter already subscribed is replaced [MQTT-3.8.4-3]. Failure codes: v3 0x80; v5 0x8F invalid
 * filter, 0x87 not authorised, 0x97 quota exceeded (a new filter past
 * max_subscriptions). No Local on a shared subscription closes with 0x82 [MQTT-3.8.3-4].
 */
import type { ISubackPacket, ISubscribePacket } from 'mqtt-packet';
import { protocolClose, step, type Ctx, type Effect, type Step } from '../channel.js';
import { RC } from '../reason-codes.js';
import type { SubOptions } from '../channel-session.js';
import { parseShared } from '../shared-groups.js';
import { isValidTopicFilter } from '../topic.js';

export function handleSubscribe(ctx: Ctx, pkt: ISubscribePacket): Step {
  const { st, session } = ctx;
  const v5 = st.version === 5;
  const subId = pkt.properties?.subscriptionIdentifier ?? null;
  const granted: number[] = [];
  const subs: { filter: string; opts: SubOptions; existed: boolean }[] = [];
  const effects: Effect[] = [];
  // No Local on a shared subscription is a Protocol Error [MQTT-3.8.3-4]: nothing of the packet applies.
  if (v5 && pkt.subscriptions.some((s) => s.nl && parseShared(s.topic) !== null)) return protocolClose(st, RC.protocolError);
  for (const s of pkt.subscriptions) {
    const filter = s.topic;
    // $share/{ShareName}/{filter} (5.0 §4.8.2, accepted from 3.1.1 too): the ACL checks the filter without the prefix.
    const shared = parseShared(filter);
    const aclFilter = shared === null || shared === 'invalid' ? filter : shared.filter;
    let code: number;
    if (!isValidTopicFilter(filter) || shared === 'invalid') code = v5 ? RC.topicFilterInvalid : RC.unspecified; // [MQTT-4.8.2-1/2]
    else if (!st.policy.acl.allows('subscribe', aclFilter, { username: st.username, clientId: st.clientId })) {
      code = v5 ? RC.notAuthorized : RC.unspecified;
      effects.push({ type: 'count', what: 'acl_denied' });
    } else if (!session.session.subscriptions.has(filter) && session.session.subscriptions.size >= st.policy.mqtt.max_subscriptions) {
      code = v5 ? RC.quotaExceeded : RC.unspecified;
      effects.push({ type: 'count', what: 'max_subscriptions' });
    } else {
      const qos = Math.min(s.qos, st.policy.mqtt.max_qos) as SubOptions['qos'];
      const opts: SubOptions = { qos, nl: v5 && !!s.nl, rap: v5 && !!s.rap, rh: v5 ? (s.rh ?? 0) : 0, subId };
      subs.push({ filter, opts, existed: session.subscribe(filter, opts) });
      code = qos;
    }
    granted.push(code);
  }
  const suback: ISubackPacket = { cmd: 'suback', messageId: pkt.messageId ?? 0, granted };
  effects.push({ type: 'send', packet: suback });
  if (subs.length > 0) effects.push({ type: 'subscribed', subs });
  return step(effects);
}
