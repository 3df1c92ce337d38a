/**
 * The small pieces around a c2s connection (connection.ts) that keep per-session memory low:
 * socket listeners shared by every connection (each socket carries its connection under a
 * symbol) instead of closures per connection. The bound session and its liveness adapter live in
 * bound-session.ts. The socket is a TransportConn (src/transport/connection.ts); a WebSocket also
 * reports Pongs and messages its framing refuses (src/xmpp/ws-framing.ts), heard only there.
 */
import type { Duplex } from 'node:stream';
import { type SecureContext, TLSSocket } from 'node:tls';
import { isMessageFramed, type TransportConn } from '../transport/connection.js';

/** What the pieces here call on the connection. */
export interface ConnectionHooks {
  onData(chunk: Buffer): void;
  onPeerEnd(): void;
  onError(err: Error): void;
  onClose(): void;
  /** A WebSocket Pong (the answer to an xmpp_probe ws_ping). */
  onPong(): void;
  /** A WebSocket message the framing refused (RFC 7395 §3.3.3): the stream ends with not-well-formed. */
  onFramingError(text: string): void;
}

const CONN = Symbol('vigil.xmpp.connection');
type Carrier = TransportConn & { [CONN]?: ConnectionHooks | undefined };

function onSocketData(this: Carrier, chunk: Buffer): void {
  this[CONN]?.onData(chunk);
}
function onSocketEnd(this: Carrier): void {
  this[CONN]?.onPeerEnd();
}
function onSocketError(this: Carrier, err: Error): void {
  this[CONN]?.onError(err);
}
function onSocketClose(this: Carrier): void {
  this[CONN]?.onClose();
}
function onSocketPong(this: Carrier): void {
  this[CONN]?.onPong();
}
function onFramingError(this: Carrier, text: string): void {
  this[CONN]?.onFramingError(text);
}
const ignore = () => undefined;

/** Listen on `io` for `conn` (the shared listeners find it through the symbol). */
export function attachSocket(io: TransportConn, conn: ConnectionHooks): void {
  (io as Carrier)[CONN] = conn;
  io.on('data', onSocketData);
  io.on('end', onSocketEnd);
  io.on('error', onSocketError);
  io.on('close', onSocketClose);
  if (isMessageFramed(io)) {
    io.on('pong', onSocketPong);
    io.on('protocol-error', onFramingError);
  }
}

/** Stop listening (STARTTLS: the TLS socket takes over); errors of the raw socket are ignored from now on. */
export function detachSocket(io: TransportConn): void {
  io.removeListener('data', onSocketData);
  io.removeListener('end', onSocketEnd);
  io.removeListener('close', onSocketClose);
  io.removeListener('error', onSocketError);
  (io as Carrier)[CONN] = undefined;
  io.on('error', ignore);
}

/**
 * STARTTLS (RFC 6120 §5.4.3.3): the TLS session runs on the same socket, which `conn` now hears
 * through the TLS socket. Without a context for the host the stream stays as it is.
 */
export function upgradeToTls(raw: TransportConn, secureContext: SecureContext | null, conn: ConnectionHooks): TransportConn {
  if (!secureContext) return raw;
  detachSocket(raw);
  const secure = new TLSSocket(raw as Duplex, { isServer: true, secureContext });
  attachSocket(secure, conn);
  return secure;
}
