/**
 * Will messages: published on any close without DISCONNECT [MQTT-3.1.2-8], after the v5 Will
 * Delay Interval or the end of the session, whichever is first (v5 §3.1.3.2.2), never when a
 * takeover keeps the session alive in the new connection [MQTT-3.1.3-9]. A delayed will is kept
 * per client id so a reconnect within the delay cancels it.
 */
import type { DisconnectReason } from '../liveness/types.js';
import type { Scheduler, TimerHandle } from '../time/scheduler.js';
import type { Connected, HostPolicy } from './channel.js';
import type { Message } from './message.js';

export interface WillEnv {
  scheduler: Scheduler;
  nowMs(): number;
  publish(msg: Message): void;
  aclDenied(): void;
}

export function scheduleWill(
  env: WillEnv,
  policy: HostPolicy,
  wills: Map<string, TimerHandle>,
  st: Connected,
  reason: DisconnectReason,
): void {
  const w = st.will;
  if (!w) return;
  const delayS = Math.min(w.delayS, st.sessionExpiryS);
  if (delayS > 0 && reason === 'taken_over') return;
  const fire = () => {
    wills.delete(st.clientId);
    if (!policy.acl.allows('publish', w.topic, { username: st.username, clientId: st.clientId })) return env.aclDenied();
    env.publish({
      topic: w.topic,
      payload: w.payload,
      qos: w.qos,
      retain: w.retain,
      properties: w.properties,
      expiresAt: w.expiryS === null ? null : env.nowMs() + w.expiryS * 1000,
      senderId: st.clientId,
    });
  };
  if (delayS === 0) return fire();
  wills.get(st.clientId)?.cancel();
  wills.set(st.clientId, env.scheduler.setTimer(delayS * 1000, fire));
}
