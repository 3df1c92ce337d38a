/**
 * The short forms of the acknowledgements and of DISCONNECT, written here rather than by
 * mqtt-packet (which writes the long form whenever `reasonCode` is absent): be conservative in
 * what you send.
 *
 *   PUBACK / PUBREC / PUBREL / PUBCOMP with reason 0x00 and no properties: Remaining Length 2, the
 *   Packet Identifier only. MQTT 5.0 §3.4.2.1, §3.5.2.1, §3.6.2.1, §3.7.2.1: "The Reason Code and
 *   Property Length can be omitted if the Reason Code is 0x00 (Success) and there are no
 *   Properties"; the 3.1.1 form (§3.4-3.7) is the same bytes. Eclipse Paho Python 1.6.1 (Debian 12)
 *   reads exactly two bytes of a v5 PUBREL and its network thread dies on the long form.
 *   DISCONNECT with reason 0x00 and no properties: Remaining Length 0 (5.0 §3.14.2.1).
 *
 * Fixed header first bytes: PUBACK 0x40, PUBREC 0x50, PUBREL 0x62 (flags 0010 [MQTT-3.6.1-1]),
 * PUBCOMP 0x70, DISCONNECT 0xE0.
 */
import type { Packet } from 'mqtt-packet';

const FIRST: Partial<Record<Packet['cmd'], number>> = { puback: 0x40, pubrec: 0x50, pubrel: 0x62, pubcomp: 0x70 };
const DISCONNECT_NORMAL = Buffer.from([0xe0, 0x00]);

function bare(p: { reasonCode?: number | undefined; properties?: object | undefined }): boolean {
  if ((p.reasonCode ?? 0) !== 0) return false;
  if (p.properties === undefined) return true;
  for (const _ in p.properties) return false;
  return true;
}

/** The short encoding of `packet` when one applies, else null (mqtt-packet encodes it). */
export function shortForm(packet: Packet): Buffer | null {
  if (packet.cmd === 'disconnect') return bare(packet) ? DISCONNECT_NORMAL : null;
  const first = FIRST[packet.cmd];
  if (first === undefined) return null;
  const p = packet as { messageId?: number; reasonCode?: number; properties?: object };
  if (!bare(p)) return null;
  const id = p.messageId ?? 0;
  return Buffer.from([first, 2, id >> 8, id & 0xff]);
}
