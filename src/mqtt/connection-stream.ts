/**
 * The socket listeners of MQTT connections, shared by all of them: a stream is tagged with its
 * connection once, so no connection makes closures of its own (memory per idle connection).
 */
import type { Duplex } from 'node:stream';
import type { MqttConnection } from './connection.js';

const CONN = Symbol('vigil.mqtt.connection');
type Tagged = Duplex & { [CONN]: MqttConnection };

function onStreamData(this: Tagged, buf: Buffer): void {
  this[CONN].onData(buf);
}
function onStreamGone(this: Tagged): void {
  this[CONN].end('socket_error', null, true);
}

/** Feed `stream`'s bytes to `conn`; an error, end or close ends the connection. */
export function attachStream(stream: Duplex, conn: MqttConnection): void {
  (stream as Tagged)[CONN] = conn;
  stream.on('data', onStreamData);
  stream.on('error', onStreamGone);
  stream.on('end', onStreamGone);
  stream.on('close', onStreamGone);
}

/** A shared 'finish' listener: destroy the stream once its last write is flushed. */
export function destroyStream(this: Duplex): void {
  this.destroy();
}
