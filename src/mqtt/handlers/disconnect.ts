/**
 * DISCONNECT from the client (3.1.1 §3.14, 5.0 §3.14): a normal close discards the will
 * [MQTT-3.1.2-10]; v5 reason 0x04 "Disconnect with Will Message" keeps it. A v5 client may change
 * a non-zero Session Expiry Interval but not set one it announced as 0 [MQTT-3.14.2-2]; the new
 * one is capped by max_session_expiry like the CONNECT's.
 */
import type { IDisconnectPacket } from 'mqtt-packet';
import { protocolClose, type Ctx, type Effect, type Step } from '../channel.js';
import { RC } from '../reason-codes.js';
import { capSessionExpiry } from './connect.js';

export function handleDisconnect(ctx: Ctx, pkt: IDisconnectPacket): Step {
  const { st } = ctx;
  const expiry = pkt.properties?.sessionExpiryInterval;
  if (st.version === 5 && expiry !== undefined && expiry > 0 && st.sessionExpiryS === 0) {
    return protocolClose(st, RC.protocolError);
  }
  const withWill = st.version === 5 && pkt.reasonCode === 0x04 && st.will !== null;
  const close: Effect = { type: 'close', reason: 'client_close', code: null, will: withWill };
  if (expiry !== undefined) close.sessionExpiryS = capSessionExpiry(expiry, st.policy.mqtt);
  return { next: { phase: 'closed' }, effects: [close] };
}
