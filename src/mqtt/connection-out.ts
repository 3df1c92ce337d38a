/**
 * What one MQTT connection writes (connection.ts owns when): control packets in their shortest
 * form, with shared buffers for the hot ones, and deliveries encoded with or without the client's
 * outbound topic aliases, dropped and counted when they exceed its Maximum Packet Size.
 */
import { generate, type Packet } from 'mqtt-packet';
import type { Connected } from './channel.js';
import { queueWrite, writeFirst, type WriteQueue } from './connection-writes.js';
import { encodePublish } from './deliver.js';
import type { Delivery } from './message.js';
import type { PacketCounters } from './metrics.js';
import { shortForm } from './short-acks.js';
import { encodeAliased } from './topic-alias-out.js';

const PINGRESP = Buffer.from([0xd0, 0x00]);
/** CONNACK of a 3.1/3.1.1 success, without / with Session Present (3.1.1 §3.2). */
const CONNACK_V3_OK = [Buffer.from([0x20, 0x02, 0x00, 0x00]), Buffer.from([0x20, 0x02, 0x01, 0x00])] as const;

/** Acknowledgements that promise the client its packet is safe: sent only once durable. */
export function isDurableAck(cmd: Packet['cmd']): boolean {
  return cmd === 'puback' || cmd === 'pubrec' || cmd === 'pubcomp' || cmd === 'suback';
}

/** Queue one control packet for protocol level `version`. */
export function writePacket(w: WriteQueue, packet: Packet, version: number): void {
  // PINGRESP is the hot packet of idle fleets, CONNACK of connect storms: shared encodings.
  if (packet.cmd === 'pingresp') return queueWrite(w, PINGRESP);
  if (packet.cmd === 'connack' && version !== 5 && packet.returnCode === 0 && packet.properties === undefined) {
    return writeFirst(w, CONNACK_V3_OK[packet.sessionPresent ? 1 : 0]);
  }
  queueWrite(w, shortForm(packet) ?? generate(packet, { protocolVersion: version }));
}

/** A PUBLISH of `d` for this client (null: expired on the way out). */
export function encodeDelivery(st: Connected, d: Delivery, id: number, dup: boolean, now: number): Buffer | null {
  return st.aliasesOut === null ? encodePublish(st.version, d, id, dup, now) : encodeAliased(st, st.aliasesOut, d, id, dup, now);
}

/** Queue an encoded PUBLISH, or drop and count it past the client's v5 Maximum Packet Size [MQTT-3.1.2-25]. */
export function writeDelivery(w: WriteQueue, st: Connected, buf: Buffer, counters: PacketCounters): void {
  if (st.maxPacketOut > 0 && buf.length > st.maxPacketOut) {
    counters.dropped.value++;
    return;
  }
  counters.messagesOut.value++;
  queueWrite(w, buf);
}
