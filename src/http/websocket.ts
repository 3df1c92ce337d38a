/**
 * WebSocket endpoints on the HTTP listener (issue 14), through @fastify/websocket (ws, in
 * fastify's own `upgrade` handling): XMPP at /xmpp-websocket (RFC 7395) and, when
 * listeners.http.mqtt_path is set, MQTT there. Each endpoint is a protocol's WsEndpoint (its
 * framing, its connection gate, what serves an upgraded connection).
 *
 * Before an upgrade (a preValidation hook, so fastify answers a refusal as a normal response):
 * the checks of src/transport/ws-server.ts (origin 403, subprotocol 400), then the listener's
 * max_conn_rate and the protocol's limits (503). `ws` options: no per-message deflate, maxPayload
 * the largest message any endpoint takes (each endpoint then checks its own), our subprotocol
 * choice. A plain GET gets 426. No API token: these are client endpoints, like the protocol ports.
 * A socket error of an upgraded client (an unclean drop) is the connection's business, logged at
 * debug level only.
 */
import type { FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import type { Config } from '../config/types.js';
import type { Clock } from '../time/clock.js';
import { ListenerRate } from '../transport/listener-rate.js';
import { type WsEndpoint, refuseUpgrade, wsConnection, wsServerOptions } from '../transport/ws-server.js';

export interface WebsocketDeps {
  config: Pick<Config, 'listeners'>;
  clock: Clock;
  websockets: readonly WsEndpoint[];
}

export function websocketRoutes(app: FastifyInstance, deps: WebsocketDeps): void {
  const endpoints = deps.websockets;
  if (endpoints.length === 0) return;
  const http = deps.config.listeners.http;
  const rate = new ListenerRate('http', http.max_conn_rate, deps.clock);
  const maxPayload = Math.max(...endpoints.map((e) => e.framing.maxMessageBytes));
  void app.register(websocket, {
    options: wsServerOptions(maxPayload, endpoints.map((e) => e.framing)),
    errorHandler: (err, socket, req) => {
      req.log.debug({ event: 'ws_socket_error', err: err.message }, 'ws_socket_error');
      socket.terminate();
    },
  });
  void app.register(async (ws) => {
    for (const ep of endpoints) {
      const rules = { path: ep.path, checkOrigin: http.check_origin, framing: ep.framing };
      ws.route({
        method: 'GET',
        url: ep.path,
        schema: { hide: true },
        preValidation: async (req, reply) => {
          if (!req.ws) return;
          const refused = refuseUpgrade(req.raw, rules);
          if (refused) return reply.code(refused.status).type('text/plain').send(refused.text);
          const ip = req.raw.socket.remoteAddress ?? 'unknown';
          if (!ep.gate.attempt(ip, rate) || !ep.gate.admit(ip)) return reply.code(503).type('text/plain').send('Service Unavailable');
        },
        handler: (_req, reply) => reply.code(426).header('Upgrade', 'websocket').type('text/plain').send('WebSocket only'),
        wsHandler: (socket, req) => {
          const ip = req.raw.socket.remoteAddress ?? 'unknown';
          ep.onConnection(wsConnection(socket, req.raw, ep.framing, ip), ip);
        },
      });
    }
  });
}
