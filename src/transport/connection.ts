/**
 * The one interface a protocol connection (MQTT connection.ts, XMPP connection.ts) has of its
 * network connection, whatever carries it:
 *
 *   tcp   a net.Socket, itself: no wrapper object, no closure (memory per idle connection)
 *   tls   a tls.TLSSocket, itself (MQTT on 8883, XMPP direct TLS, an XMPP stream after STARTTLS)
 *   ws    a WsConnection (ws-connection.ts) over a `ws` WebSocket: one write = one message
 *   wss   the same over TLS
 *   test  an in-memory Duplex (test/support/duplex-pair.ts) counts as tcp
 *
 * It is a structural subset of net.Socket, so a socket is one without a field added. What a
 * socket cannot carry as a field is read by the functions below from what the object is (its
 * class, or the fields a WsConnection has): `viaOf`, `peerCertificate`, `isMessageFramed`,
 * `canPing` / `ping`, `canStartTls`. The buffered-bytes figure a protocol checks against its
 * max_send_buffer is `writableLength` (a WebSocket's bufferedAmount for ws/wss).
 *
 * Events (the shared listener functions of each protocol attach them once per connection):
 *   data (Buffer), end, close, error, drain: as on a socket;
 *   pong                  ws/wss: the answer to our WebSocket Ping (RFC 6455 §5.5.3);
 *   protocol-error (text) ws/wss: a message the protocol's framing refuses (MQTT-6.0.0-1 text
 *                         frame, RFC 7395 §3.3.3 two elements in one message); the connection
 *                         closes right after.
 */
import type { X509Certificate } from 'node:crypto';
import { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Via } from '../liveness/types.js';

export type { Via } from '../liveness/types.js';

/** An event listener as net.Socket and EventEmitter declare it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Listener = (...args: any[]) => void;

export interface TransportConn {
  write(chunk: Buffer | string): boolean;
  /** Send what is queued, then close (a WebSocket: close frame 1000). */
  end(): unknown;
  /** Close at once, dropping what is queued. */
  destroy(): unknown;
  pause(): unknown;
  resume(): unknown;
  readonly destroyed: boolean;
  readonly writable: boolean;
  /** Bytes written but not yet handed to the kernel: the slow-reader figure. */
  readonly writableLength: number;
  readonly remoteAddress?: string | undefined;
  on(event: string, listener: Listener): unknown;
  once(event: string, listener: Listener): unknown;
  removeListener(event: string, listener: Listener): unknown;
}

/** What a message-framed connection (WsConnection) adds to the interface. */
export interface MessageFramed {
  readonly via: Via;
  /** One write is one message: a protocol's framing splits its own output (ws-framing.ts of each). */
  readonly messageFramed: true;
  /** The TLS socket under a wss connection (its peer certificate), else null. */
  readonly tlsSocket: TLSSocket | null;
  /** Send a WebSocket Ping; its Pong comes as a `pong` event. */
  ping(): void;
}

function framed(c: TransportConn): (TransportConn & MessageFramed) | null {
  return (c as Partial<MessageFramed>).messageFramed === true ? (c as TransportConn & MessageFramed) : null;
}

/** tcp | tls | ws | wss. A TLSSocket is tls (a STARTTLS stream too), anything else not framed is tcp. */
export function viaOf(c: TransportConn): Via {
  if (c instanceof TLSSocket) return 'tls';
  return framed(c)?.via ?? 'tcp';
}

export function isMessageFramed(c: TransportConn): boolean {
  return framed(c) !== null;
}

/** Whether the connection carries TLS (tls, wss): a stream that starts secure (no STARTTLS offered). */
export function isEncrypted(c: TransportConn): boolean {
  const v = viaOf(c);
  return v === 'tls' || v === 'wss';
}

/** STARTTLS needs a plain TCP socket under the stream (RFC 6120 §5.4.3.3 upgrades it in place). */
export function canStartTls(c: TransportConn): boolean {
  return c instanceof Socket && !(c instanceof TLSSocket);
}

/** The client's certificate, when the connection is TLS and the client sent one. */
export function peerCertificate(c: TransportConn): X509Certificate | null {
  const tls = c instanceof TLSSocket ? c : (framed(c)?.tlsSocket ?? null);
  return tls?.getPeerX509Certificate() ?? null;
}

export function canPing(c: TransportConn): boolean {
  return framed(c) !== null;
}

/** A WebSocket Ping (RFC 6455 §5.5.2); false when the connection has none (tcp, tls). */
export function ping(c: TransportConn): boolean {
  const f = framed(c);
  if (f === null || f.destroyed) return false;
  f.ping();
  return true;
}
