/**
 * Acknowledgements (3.1.1 §3.4-3.7, 5.0 §3.4-3.7), both directions of the QoS 1/2 flows:
 *   PUBACK  (client acks our QoS 1)  -> free the inflight slot, drain pending
 *   PUBREC  (client got our QoS 2)   -> PUBREL; a v5 PUBREC >= 0x80 ends the flow [MQTT-4.3.3-4]
 *   PUBCOMP (client done with QoS 2) -> free the slot, drain pending
 *   PUBREL  (client releases its QoS 2) -> forget the id, PUBCOMP (v5: 0x92 if unknown)
 * Unknown packet ids of PUBACK / PUBCOMP are ignored (a late ack after a resend, harmless).
 */
import type { IPubackPacket, IPubcompPacket, IPubrecPacket, IPubrelPacket } from 'mqtt-packet';
import { step, type Ctx, type Step } from '../channel.js';
import { RC } from '../reason-codes.js';

const DRAIN: Step = { effects: [{ type: 'drain' }] };
const NOTHING: Step = { effects: [] };

export function handlePuback(ctx: Ctx, pkt: IPubackPacket): Step {
  const e = ctx.session.inflight.get(pkt.messageId ?? 0);
  if (!e || e.phase !== 'await_puback') return NOTHING;
  ctx.session.inflight.delete(pkt.messageId ?? 0);
  return DRAIN;
}

export function handlePubrec(ctx: Ctx, pkt: IPubrecPacket): Step {
  const id = pkt.messageId ?? 0;
  const e = ctx.session.inflight.get(id);
  const v5 = ctx.st.version === 5;
  if (!e || e.phase === 'await_puback') {
    return step([{ type: 'send', packet: v5 ? { cmd: 'pubrel', messageId: id, reasonCode: RC.packetIdNotFound } : { cmd: 'pubrel', messageId: id } }]);
  }
  if (v5 && (pkt.reasonCode ?? 0) >= 0x80) {
    ctx.session.inflight.delete(id); // [MQTT-4.4.0-2] acknowledged, flow over
    return DRAIN;
  }
  e.phase = 'await_pubcomp';
  return step([{ type: 'send', packet: { cmd: 'pubrel', messageId: id } }]);
}

export function handlePubcomp(ctx: Ctx, pkt: IPubcompPacket): Step {
  const e = ctx.session.inflight.get(pkt.messageId ?? 0);
  if (!e || e.phase !== 'await_pubcomp') return NOTHING;
  ctx.session.inflight.delete(pkt.messageId ?? 0);
  return DRAIN;
}

export function handlePubrel(ctx: Ctx, pkt: IPubrelPacket): Step {
  const id = pkt.messageId ?? 0;
  const known = ctx.session.awaitingRel.delete(id);
  const packet: IPubcompPacket =
    !known && ctx.st.version === 5 ? { cmd: 'pubcomp', messageId: id, reasonCode: RC.packetIdNotFound } : { cmd: 'pubcomp', messageId: id };
  return step([{ type: 'send', packet }]);
}
