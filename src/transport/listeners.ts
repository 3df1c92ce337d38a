/**
 * The socket listeners (issue 14), one function per kind, each handing a protocol an admitted
 * TransportConn (connection.ts) and its address:
 *
 *   tcp   net.Server; the socket itself is the connection
 *   tls   tls.Server; the TLSSocket itself, after the handshake. The gate's rate check runs on
 *         the raw socket, before the handshake costs anything; tls handshakeTimeout bounds it
 *   ws / wss  ws-server.ts (a dedicated port) and the HTTP listener's routes (src/http/websocket.ts)
 *
 * Every listener: `gate.attempt` (listener and per-address rate) before any byte, `gate.admit`
 * (totals, per address) before the protocol sees the connection; a refused socket is destroyed.
 * The handler a listener calls is one function for all its sockets (no closure per connection).
 */
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { type SecureContextOptions, type TLSSocket, type TlsOptions, createServer as createTlsServer } from 'node:tls';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { TransportConn } from './connection.js';
import type { ConnectionGate, Gated } from './gate.js';
import type { ListenerRate } from './listener-rate.js';

/** Serve one admitted connection (the protocol makes its connection object and calls gate.opened). */
export type OnConnection = (conn: TransportConn, ip: string) => void;

export interface ListenerSpec {
  /** The config key under listeners (mqtt, mqtts, xmpp, xmpps, mqtt_ws, ...): logs and metrics. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly gate: ConnectionGate<Gated>;
  readonly rate: ListenerRate;
  readonly onConnection: OnConnection;
  readonly logger: Logger;
}

export interface RunningListener {
  readonly name: string;
  readonly server: Server;
  /** TLS listeners: swap the certificate for new handshakes (tls.Server#setSecureContext); else null. */
  readonly setSecureContext: ((o: SecureContextOptions) => void) | null;
  address(): { host: string; port: number } | null;
  /** Stop accepting; resolves once the server is closed (at most `graceMs` for open sockets to go). */
  close(graceMs?: number): Promise<void>;
}

/** A plain TCP listener: the socket is the connection. */
export async function listenTcp(spec: ListenerSpec): Promise<RunningListener> {
  const { gate, rate, onConnection } = spec;
  const server = createServer({ noDelay: true }, (socket: Socket) => {
    const ip = socket.remoteAddress ?? 'unknown';
    if (!gate.attempt(ip, rate) || !gate.admit(ip)) {
      socket.destroy();
      return;
    }
    onConnection(socket, ip);
  });
  return listening(spec, server);
}

/** A TLS listener: the rate is checked before the handshake, the totals after it. */
export async function listenTls(spec: ListenerSpec & { tls: TlsOptions; handshakeTimeoutMs: number; handshakeErrors: Counter<'listener'> }): Promise<RunningListener> {
  const { gate, rate, onConnection, name } = spec;
  const server = createTlsServer({ ...spec.tls, handshakeTimeout: spec.handshakeTimeoutMs, noDelay: true } as TlsOptions, (socket: TLSSocket) => {
    const ip = socket.remoteAddress ?? 'unknown';
    if (!gate.admit(ip)) {
      socket.destroy();
      return;
    }
    onConnection(socket, ip);
  });
  server.on('connection', (raw: Socket) => {
    if (!gate.attempt(raw.remoteAddress ?? 'unknown', rate)) raw.destroy();
  });
  server.on('tlsClientError', (err: Error) => {
    spec.handshakeErrors.inc({ listener: name });
    spec.logger.debug({ event: 'tls_handshake_failed', listener: name, error: err.message }, 'tls_handshake_failed');
  });
  return listening(spec, server, (o) => server.setSecureContext(o));
}

/** Listen on the spec's address; log `listening` with the listener's name. */
export async function listening(spec: Pick<ListenerSpec, 'name' | 'host' | 'port' | 'logger'>, server: Server, setSecureContext: RunningListener['setSecureContext'] = null): Promise<RunningListener> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(spec.port, spec.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = () => {
    const a = server.address() as AddressInfo | null;
    return a && typeof a === 'object' ? { host: a.address, port: a.port } : null;
  };
  spec.logger.info({ event: 'listening', listener: spec.name, ...address() }, `${spec.name} listening`);
  return {
    name: spec.name,
    server,
    setSecureContext,
    address,
    close: (graceMs = 3_000) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(resolve, graceMs);
        t.unref();
        server.close(() => {
          clearTimeout(t);
          resolve();
        });
      }),
  };
}
