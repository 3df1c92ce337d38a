/**
 * Acknowledgements (3.1.1 §3.4-3.7, 5.0 §3.4-3.7), both directions of the QoS 1/2 flows, carried
 * out by the session (src/mqtt-session/session-state.ts):
 *   PUBACK  (client acks our QoS 1)  -> the slot is freed, the queue drains (through the sink)
 *   PUBREC  (client got our QoS 2)   -> PUBREL through the sink (0x92 for an unknown id); a v5
 *                                       PUBREC >= 0x80 ends the flow [MQTT-4.3.3-4]
 *   PUBCOMP (client done with QoS 2) -> the slot is freed, the queue drains
 *   PUBREL  (client releases its QoS 2) -> the id is forgotten, PUBCOMP (v5: 0x92 if unknown)
 * Unknown packet ids of PUBACK / PUBCOMP are ignored (a late ack after a resend, harmless).
 * The 2-byte PUBACK / PUBREC / PUBCOMP (Packet Identifier only; in 5.0 reason code 0x00 Success
 * and no properties, §3.4.2.1) skip the decoder (connection.ts) and come to the same functions.
 */
import type { IPubackPacket, IPubcompPacket, IPubrecPacket, IPubrelPacket } from 'mqtt-packet';
import { step, type Ctx, type Step } from '../channel.js';
import type { ChannelSession } from '../channel-session.js';
import { released } from '../receive-quota.js';
import { RC } from '../reason-codes.js';

const NOTHING: Step = { effects: [] };

// What each ack does, decided here for the decoded packet (handle*) and for the 2-byte form the
// connection reads by sight (the same functions, given the Packet Identifier read off the frame).

/** PUBACK of our QoS 1 (Packet Identifier `id`). */
export function puback(session: ChannelSession, id: number): Step {
  session.puback(id);
  return NOTHING;
}

/** PUBREC of our QoS 2; `reasonCode` 0 for 3.1.1 and the 2-byte v5 form. */
export function pubrec(session: ChannelSession, id: number, reasonCode: number): Step {
  session.pubrec(id, reasonCode);
  return NOTHING;
}

/** PUBCOMP of our QoS 2. */
export function pubcomp(session: ChannelSession, id: number): Step {
  session.pubcomp(id);
  return NOTHING;
}

export function handlePuback(ctx: Ctx, pkt: IPubackPacket): Step {
  return puback(ctx.session, pkt.messageId ?? 0);
}

export function handlePubrec(ctx: Ctx, pkt: IPubrecPacket): Step {
  return pubrec(ctx.session, pkt.messageId ?? 0, ctx.st.version === 5 ? (pkt.reasonCode ?? 0) : 0);
}

export function handlePubcomp(ctx: Ctx, pkt: IPubcompPacket): Step {
  return pubcomp(ctx.session, pkt.messageId ?? 0);
}

export function handlePubrel(ctx: Ctx, pkt: IPubrelPacket): Step {
  const id = pkt.messageId ?? 0;
  const known = ctx.session.pubrel(id);
  if (ctx.st.quota) released(ctx.st.quota, id);
  const packet: IPubcompPacket =
    !known && ctx.st.version === 5 ? { cmd: 'pubcomp', messageId: id, reasonCode: RC.packetIdNotFound } : { cmd: 'pubcomp', messageId: id };
  return step([{ type: 'send', packet }]);
}
