/**
 * The small pieces around a c2s connection (connection.ts) that keep per-session memory low:
 * socket listeners shared by every connection (each socket carries its connection under a
 * symbol), the bound session the stanza layer sees (c2s-session.ts) and the liveness adapter, both
 * small objects with their code on the prototype instead of closures per connection.
 */
import type { Duplex } from 'node:stream';
import { type SecureContext, TLSSocket } from 'node:tls';
import type { DisconnectReason, EndpointRef, LivenessAdapter, LivenessHandle } from '../liveness/types.js';
import { type C2sSession, type PresenceState, newPresenceState } from './c2s-session.js';
import type { XmlEl } from './xml.js';

/** What the pieces here call on the connection. */
export interface ConnectionHooks {
  onData(chunk: Buffer): void;
  onPeerEnd(): void;
  onError(err: Error): void;
  onClose(): void;
  sendEl(el: XmlEl): void;
  kill(reason: DisconnectReason): void;
  /** XEP-0199 §4.1 server ping. */
  probe(): void;
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

/**
 * The bound session as the stanza layer sees it (c2s-session.ts), with its liveness handle: what a
 * resumable session (XEP-0198) keeps when its socket goes.
 */
export class BoundSession implements C2sSession {
  ref: EndpointRef | null = null;
  handle: LivenessHandle | null = null;
  readonly presence: PresenceState = newPresenceState();
  interested = false;
  constructor(
    private readonly conn: ConnectionHooks,
    readonly jid: string,
    readonly bare: string,
    readonly user: string,
    readonly host: string,
  ) {}
  send(el: XmlEl): void {
    this.conn.sendEl(el);
  }
  kill(reason: DisconnectReason): void {
    this.conn.kill(reason);
  }
}

/** What the liveness core calls: probe = our XEP-0199 ping, kill = stream error. */
export class PingAdapter implements LivenessAdapter {
  constructor(private readonly conn: ConnectionHooks) {}
  probe(): void {
    this.conn.probe();
  }
  kill(_ep: EndpointRef, reason: DisconnectReason): void {
    this.conn.kill(reason);
  }
}

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
