/**
 * The small pieces around a c2s connection (connection.ts) that keep per-session memory low:
 * socket listeners shared by every connection (each socket carries its connection under a
 * symbol) instead of closures per connection. The bound session and its liveness adapter live in
 * bound-session.ts.
 */
import type { Duplex } from 'node:stream';
import { type SecureContext, TLSSocket } from 'node:tls';

/** What the pieces here call on the connection. */
export interface ConnectionHooks {
  onData(chunk: Buffer): void;
  onPeerEnd(): void;
  onError(err: Error): void;
  onClose(): void;
}

const CONN = Symbol('vigil.xmpp.connection');
type Carrier = Duplex & { [CONN]?: ConnectionHooks | undefined };

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
const ignore = () => undefined;

/** Listen on `io` for `conn` (the shared listeners find it through the symbol). */
export function attachSocket(io: Duplex, conn: ConnectionHooks): void {
  (io as Carrier)[CONN] = conn;
  io.on('data', onSocketData);
  io.on('end', onSocketEnd);
  io.on('error', onSocketError);
  io.on('close', onSocketClose);
}

/** Stop listening (STARTTLS: the TLS socket takes over); errors of the raw socket are ignored from now on. */
export function detachSocket(io: Duplex): void {
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
export function upgradeToTls(raw: Duplex, secureContext: SecureContext | null, conn: ConnectionHooks): Duplex {
  if (!secureContext) return raw;
  detachSocket(raw);
  const secure = new TLSSocket(raw as never, { isServer: true, secureContext });
  attachSocket(secure, conn);
  return secure;
}
