/**
 * Acknowledgements (3.1.1 §3.4-3.7, 5.0 §3.4-3.7), both directions of the QoS 1/2 flows, carried
 * out by the session (src/mqtt-session/session-state.ts):
 *   PUBACK  (client acks our QoS 1)  -> the slot is freed, the queue drains (through the sink)
 *   PUBREC  (client got our QoS 2)   -> PUBREL through the sink (0x92 for an unknown id); a v5
 *                                       PUBREC >= 0x80 ends the flow [MQTT-4.3.3-4]
 *   PUBCOMP (client done with QoS 2) -> the slot is freed, the queue drains
 *   PUBREL  (client releases its QoS 2) -> the id is forgotten, PUBCOMP (v5: 0x92 if unknown)
 * Unknown packet ids of PUBACK / PUBCOMP are ignored (a late ack after a resend, harmless).
 */
import type { IPubackPacket, IPubcompPacket, IPubrecPacket, IPubrelPacket } from 'mqtt-packet';
import { step, type Ctx, type Step } from '../channel.js';
import { RC } from '../reason-codes.js';

const NOTHING: Step = { effects: [] };

export function handlePuback(ctx: Ctx, pkt: IPubackPacket): Step {
  ctx.session.puback(pkt.messageId ?? 0);
  return NOTHING;
}

export function handlePubrec(ctx: Ctx, pkt: IPubrecPacket): Step {
  ctx.session.pubrec(pkt.messageId ?? 0, ctx.st.version === 5 ? (pkt.reasonCode ?? 0) : 0);
  return NOTHING;
}

export function handlePubcomp(ctx: Ctx, pkt: IPubcompPacket): Step {
  ctx.session.pubcomp(pkt.messageId ?? 0);
  return NOTHING;
}

export function handlePubrel(ctx: Ctx, pkt: IPubrelPacket): Step {
  const id = pkt.messageId ?? 0;
  const known = ctx.session.pubrel(id);
  const packet: IPubcompPacket =
    !known && ctx.st.version === 5 ? { cmd: 'pubcomp', messageId: id, reasonCode: RC.packetIdNotFound } : { cmd: 'pubcomp', messageId: id };
  return step([{ type: 'send', packet }]);
}
