/**
 * WebSocket upgrades (RFC 6455 §4.2): the checks every WebSocket endpoint makes before it
 * upgrades, and the dedicated listeners (listeners.mqtt_ws / mqtt_wss: `ws` on a plain http or
 * https server; the HTTP listener's endpoints are src/http/websocket.ts, with the same checks).
 *
 * Refused with an HTTP status, never upgraded half-way (a 101 without Sec-WebSocket-Protocol
 * makes Chrome fail without saying why, mqttjs/MQTT.js#408):
 *   404  not the endpoint's path
 *   403  an Origin header not in check_origin (when the list is not empty)
 *   400  no subprotocol the protocol speaks (EMQX fail_if_no_subprotocol; MQTT-6.0.0-3/4, RFC 7395 §3.1);
 *        a comma-separated list in one header is read (Mosquitto 2.0 reads only a single value)
 *   503  the listener's or the address's connection rate, or a connection limit
 * The chosen subprotocol is the first one the client offers that the protocol speaks.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { TLSSocket, type TlsOptions } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Gated, ConnectionGate } from './gate.js';
import type { ListenerRate } from './listener-rate.js';
import { type ListenerSpec, type RunningListener, listening } from './listeners.js';
import { WsConnection, type WsFraming } from './ws-connection.js';

/** What an upgrade request must satisfy. */
export interface UpgradeRules {
  readonly path: string;
  readonly checkOrigin: readonly string[];
  readonly framing: WsFraming;
}

/** The first offered subprotocol the framing speaks; null: none (or no header). */
export function chooseSubprotocol(header: string | string[] | undefined, accepted: readonly string[]): string | null {
  const raw = Array.isArray(header) ? header.join(',') : (header ?? '');
  for (const p of raw.split(',')) {
    const name = p.trim();
    if (accepted.includes(name)) return name;
  }
  return null;
}

/** Why an upgrade is refused (status and a short text), or null. Rate and limits are the caller's. */
export function refuseUpgrade(req: Pick<IncomingMessage, 'url' | 'headers'>, rules: UpgradeRules): { status: number; text: string } | null {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== rules.path) return { status: 404, text: 'Not Found' };
  const origin = req.headers.origin;
  if (rules.checkOrigin.length > 0 && origin !== undefined && !rules.checkOrigin.includes(origin)) return { status: 403, text: 'Origin not allowed' };
  if (chooseSubprotocol(req.headers['sec-websocket-protocol'], rules.framing.subprotocols) === null) {
    return { status: 400, text: `Sec-WebSocket-Protocol must offer ${rules.framing.subprotocols.join(' or ')}` };
  }
  return null;
}

/** `ws` options shared by every endpoint: no compression, explicit size limit, our own subprotocol choice. */
export function wsServerOptions(maxPayload: number, framings: readonly WsFraming[]) {
  return {
    perMessageDeflate: false,
    clientTracking: false,
    maxPayload,
    handleProtocols: (offered: Set<string>) => {
      for (const p of offered) if (framings.some((f) => f.subprotocols.includes(p))) return p;
      return false as const;
    },
  };
}

/** The TransportConn for an upgraded WebSocket. */
export function wsConnection(ws: WebSocket, req: IncomingMessage, framing: WsFraming, ip: string): WsConnection {
  const tls = req.socket instanceof TLSSocket ? req.socket : null;
  return new WsConnection(ws, tls ? 'wss' : 'ws', ip, framing, tls);
}

/** Write a refusal on a socket that asked to upgrade, then close it. */
export function refuseSocket(socket: Socket, status: number, text: string): void {
  if (!socket.destroyed) socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
}

/** The rate and the limits of an upgrade: true = go on; false = refused (503 written). */
export function admitUpgrade(gate: ConnectionGate<Gated>, rate: ListenerRate, ip: string, socket: Socket): boolean {
  if (gate.attempt(ip, rate) && gate.admit(ip)) return true;
  refuseSocket(socket, 503, 'Service Unavailable');
  return false;
}

/** A dedicated WebSocket listener (listeners.mqtt_ws / mqtt_wss). */
export async function listenWs(spec: ListenerSpec & UpgradeRules & { tls: TlsOptions | null; handshakeTimeoutMs: number }): Promise<RunningListener> {
  const { framing, gate, rate, onConnection } = spec;
  const wss = new WebSocketServer({ ...wsServerOptions(framing.maxMessageBytes, [framing]), noServer: true });
  const plain = (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket', Connection: 'close' }).end('WebSocket only');
  };
  const https = spec.tls ? createHttpsServer({ ...spec.tls, handshakeTimeout: spec.handshakeTimeoutMs }, plain) : null;
  const server: HttpServer = https ?? createHttpServer(plain);
  server.headersTimeout = spec.handshakeTimeoutMs;
  server.requestTimeout = spec.handshakeTimeoutMs;
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const refused = refuseUpgrade(req, spec);
    if (refused) return refuseSocket(socket, refused.status, refused.text);
    const ip = socket.remoteAddress ?? 'unknown';
    if (!admitUpgrade(gate, rate, ip, socket)) return;
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(wsConnection(ws, req, framing, ip), ip));
  });
  server.on('clientError', (_err: Error, socket: Socket) => socket.destroy());
  return listening(spec, server, https ? (o) => https.setSecureContext(o) : null);
}

/** A protocol's WebSocket endpoint on the HTTP listener (src/http/websocket.ts serves it). */
export interface WsEndpoint {
  readonly path: string;
  readonly framing: WsFraming;
  readonly gate: ConnectionGate<Gated>;
  readonly onConnection: (conn: WsConnection, ip: string) => void;
}
