/**
 * The socket listeners of MQTT connections, shared by all of them: a stream is tagged with its
 * reader (the connection) once, so no connection makes closures of its own (memory per idle
 * connection). The stream is a TransportConn (src/transport/connection.ts): a socket itself for
 * tcp and tls; a WebSocket also reports the answers to our WebSocket Pings (`pong`) and messages
 * its framing refuses (`protocol-error`, e.g. a text frame [MQTT-6.0.0-1]); those two listeners are
 * added only there.
 */
import type { DisconnectReason } from '../liveness/types.js';
import { isMessageFramed, type TransportConn } from '../transport/connection.js';

/** What the shared listeners call on the stream's reader (connection.ts). */
export interface StreamReader {
  /** A read chunk. */
  onData(buf: Buffer): void;
  /** The stream failed, ended or closed. */
  end(reason: DisconnectReason, code: number | null, will: boolean): void;
  /** A WebSocket Pong: the answer to a ws_ping probe. */
  onPong(): void;
}

const READER = Symbol('vigil.mqtt.reader');
type Tagged = TransportConn & { [READER]: StreamReader };

function onStreamData(this: Tagged, buf: Buffer): void {
  this[READER].onData(buf);
}
function onStreamGone(this: Tagged): void {
  this[READER].end('socket_error', null, true);
}
function onStreamPong(this: Tagged): void {
  this[READER].onPong();
}
function onStreamRefused(this: Tagged): void {
  this[READER].end('protocol_error', null, true);
}

/** Feed `stream`'s bytes to `reader`; an error, end or close ends it. */
export function attachStream(stream: TransportConn, reader: StreamReader): void {
  (stream as Tagged)[READER] = reader;
  stream.on('data', onStreamData);
  stream.on('error', onStreamGone);
  stream.on('end', onStreamGone);
  stream.on('close', onStreamGone);
  if (isMessageFramed(stream)) {
    stream.on('pong', onStreamPong);
    stream.on('protocol-error', onStreamRefused);
  }
}

/** A shared 'finish' listener: destroy the stream once its last write is flushed. */
export function destroyStream(this: TransportConn): void {
  this.destroy();
}

/**
 * Close after a v5 DISCONNECT: end our side once the writes are flushed, then keep reading (and
 * discarding) until the peer closes or `lingerMs` pass. A client still sending when the DISCONNECT
 * goes out (a PUBREL for each PUBREC before a 0x93) would otherwise meet a reset before it reads
 * the reason code (Paho's test_flow_control2).
 */
export function lingerClose(stream: TransportConn, later: (ms: number, fn: () => void) => unknown, lingerMs: number): void {
  stream.once('finish', () => later(lingerMs, () => stream.destroy()));
  stream.resume(); // read on, so the peer's last packets are taken and dropped (the reader has ended)
}
