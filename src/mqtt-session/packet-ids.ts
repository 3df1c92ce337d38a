/**
 * Outbound packet identifiers: 1..65535, round robin from a cursor, never one still in use
 * [MQTT-2.2.1-3] (v5 [MQTT-2.2.1-4]). An id is in use from its PUBLISH until the PUBACK or PUBCOMP
 * that ends the flow; inbound ids (the client's, awaiting PUBREL) are a separate space.
 */

export const MAX_PACKET_ID = 65_535;

/**
 * The first id at or after `cursor` (wrapping 65535 -> 1) that `inUse` rejects, and the cursor
 * for the next call; id 0 when all 65535 are in use.
 */
export function nextPacketId(cursor: number, inUse: (id: number) => boolean): { id: number; cursor: number } {
  let id = cursor >= 1 && cursor <= MAX_PACKET_ID ? cursor : 1;
  for (let tries = 0; tries < MAX_PACKET_ID; tries++) {
    const next = id === MAX_PACKET_ID ? 1 : id + 1;
    if (!inUse(id)) return { id, cursor: next };
    id = next;
  }
  return { id: 0, cursor: id };
}
