/**
 * MQTT over WebSocket (MQTT 3.1.1 §6, 5.0 §6; RFC 6455): the framing the WebSocket transport
 * (src/transport/ws-connection.ts) applies to an MQTT connection.
 *
 *   in   binary messages only: a text message closes with 1003 [MQTT-6.0.0-1]. Every message,
 *        empty ones too, goes to the connection's framer as it is: one packet may span several
 *        messages and one message may hold several packets [MQTT-6.0.0-2] (mqtt.js in Node
 *        sends a CONNECT as 9 messages, its browser build batches PUBLISHes into one).
 *   out  one packet per message: the connection's write queue joins the packets of one flush
 *        (connection-writes.ts), so the output is cut back at packet boundaries here (what we
 *        wrote ourselves: every Remaining Length is right). EMQX's default and Mosquitto's
 *        behaviour; clients that assume one packet per message (old Paho JS) keep working.
 *   subprotocol  `mqtt`, and `mqttv3.1` for MQTT 3.1 clients [MQTT-6.0.0-3/4].
 * The framing keeps no state per connection.
 */
import type { FramingState, WsFraming } from '../transport/ws-connection.js';

export const MQTT_SUBPROTOCOLS = ['mqtt', 'mqttv3.1'] as const;

/** Send each MQTT packet of `chunk` (whole packets, as we wrote them) as its own message. */
export function splitPackets(chunk: Buffer, send: (msg: Buffer) => void): void {
  let i = 0;
  while (i < chunk.length) {
    // Fixed header: one type byte, then the Remaining Length varint (1 to 4 bytes).
    let len = 0;
    let mult = 1;
    let j = i + 1;
    for (; j < chunk.length && j < i + 5; j++) {
      const b = chunk[j]!;
      len += (b & 0x7f) * mult;
      mult *= 128;
      if ((b & 0x80) === 0) break;
    }
    const end = j + 1 + len;
    if (j >= chunk.length || end > chunk.length) {
      send(chunk.subarray(i)); // not whole packets: never cut what we cannot read
      return;
    }
    send(i === 0 && end === chunk.length ? chunk : chunk.subarray(i, end));
    i = end;
  }
}

const STATE: FramingState = {
  inbound: (data) => data,
  outbound: (chunk, send) => splitPackets(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, send),
};

/** `maxMessageBytes`: the largest max_packet_size of all hosts (a bigger message closes with 1009). */
export function mqttWsFraming(maxMessageBytes: number): WsFraming {
  return { protocol: 'mqtt', subprotocols: MQTT_SUBPROTOCOLS, binary: true, maxMessageBytes, start: () => STATE };
}
