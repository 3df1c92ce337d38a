/**
 * The server's Receive Maximum (MQTT 5.0 §3.2.2.3.3, §3.3.4, §4.9): how many QoS 1 and QoS 2
 * PUBLISH packets a v5 client may have unacknowledged towards the server at once. Vigil announces
 * the host's `mqtt.max_awaiting_rel` in CONNACK (0 = no limit: no property, 65,535) and counts,
 * per connection:
 *
 *   QoS 1  from the PUBLISH until its PUBACK is written (normally at once; later when the
 *          routing wrote to the store and the PUBACK waits for the commit: `owed`);
 *   QoS 2  from the PUBLISH until its PUBCOMP is written: the id sits in `qos2` until PUBREL, then
 *          the PUBCOMP is owed like a PUBACK. A PUBREC >= 0x80 ends the flow (not counted).
 *
 * A PUBLISH that would take one more than the maximum breaks [MQTT-3.3.4-7] (the client's side of
 * the rule): "the Server uses a DISCONNECT packet with Reason Code 0x93 (Receive Maximum
 * exceeded)" (§3.3.4). A duplicate QoS 2 PUBLISH of an id already counted takes
 * nothing. Counting only what this connection sent keeps the check lenient after a reconnect
 * (ids of an earlier connection still awaiting PUBREL are not counted), never strict.
 * 3.1.1 has no Receive Maximum: there `max_awaiting_rel` only bounds QoS 2 awaiting PUBREL (the
 * session core refuses past it).
 */

export interface ReceiveQuota {
  /** The announced Receive Maximum. */
  readonly max: number;
  /** QoS 2 packet ids accepted on this connection, awaiting PUBREL (made on first use). */
  qos2: Set<number> | null;
  /** Acknowledgements (PUBACK, PUBCOMP) decided but held until the store commits. */
  owed: number;
}

/** The quota of a v5 connection, or null when there is none to keep (3.1.1, or no limit). */
export function receiveQuota(version: number, maxAwaitingRel: number): ReceiveQuota | null {
  if (version !== 5 || maxAwaitingRel <= 0 || maxAwaitingRel >= 65_535) return null;
  return { max: maxAwaitingRel, qos2: null, owed: 0 };
}

/** Would this QoS 1/2 PUBLISH exceed the Receive Maximum? (A counted duplicate QoS 2 would not.) */
export function exceedsQuota(q: ReceiveQuota, qos: number, id: number): boolean {
  if (qos === 2 && q.qos2?.has(id)) return false;
  return q.owed + (q.qos2?.size ?? 0) >= q.max;
}

/** A QoS 2 PUBLISH was accepted (PUBREC 0x00): its id counts until PUBREL. */
export function awaitRelease(q: ReceiveQuota, id: number): void {
  (q.qos2 ??= new Set()).add(id);
}

/** PUBREL: the id leaves the count (its PUBCOMP is then owed until written). */
export function released(q: ReceiveQuota, id: number): void {
  q.qos2?.delete(id);
}
