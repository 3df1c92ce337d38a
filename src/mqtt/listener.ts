/**
 * The MQTT listeners as a Service: one Broker for all hosts, served on every configured listener
 * through the shared transport layer (src/transport/):
 *
 *   listeners.mqtt       tcp (1883)
 *   listeners.mqtts      tls (8883), Mosquitto's tls keys; use_identity_as_username /
 *                        use_subject_as_username take the username from the client certificate
 *   listeners.mqtt_ws    ws  (8083, path /mqtt)      listeners.mqtt_wss  wss (8084)
 *   listeners.http.mqtt_path  ws / wss on the HTTP listener (src/http/websocket.ts, wsEndpoint)
 *
 * Every listener shares the broker's connection gate (totals, per address, rates, CONNECT
 * timeout) and one ConnectionDeps per certificate mode (one object per listener, not per
 * connection). stop() closes every client with reason `shutdown` (v5 DISCONNECT 0x8B), commits
 * pending session writes and stops listening (the store closes after).
 */
import type { Service } from '../deps.js';
import type { TlsSettings } from '../config/schema/listeners.js';
import type { TransportConn } from '../transport/connection.js';
import { ListenerRate } from '../transport/listener-rate.js';
import type { RunningListener } from '../transport/listeners.js';
import { addressesOf, type ListenerPlan, startListeners, stopListeners } from '../transport/start.js';
import { loadSecureOptions, serverTlsOptions } from '../transport/tls-context.js';
import type { TlsReloader } from '../transport/tls-reload.js';
import type { WsEndpoint } from '../transport/ws-server.js';
import { Broker, type MqttDeps } from './broker.js';
import type { CertificateIdentity } from './connect-check.js';
import type { ConnectionDeps } from './connection-deps.js';
import { MqttConnection } from './connection.js';
import type { SessionsFactory } from './broker-sessions.js';
import type { SeamFactory } from './seams.js';
import { mqttWsFraming } from './ws-framing.js';

export interface MqttService extends Service {
  /** Serve one already-open stream (tests use an in-memory duplex): the `mqtt` listener's limits apply; null = refused. */
  handle(stream: TransportConn, remoteIp?: string): MqttConnection | null;
  readonly broker: Broker;
  /** MQTT over WebSocket on the HTTP listener at `path` (listeners.http.mqtt_path). */
  wsEndpoint(path: string): WsEndpoint;
  /** Bound addresses by listener name (mqtt, mqtts, mqtt_ws, mqtt_wss). */
  listenerAddresses(): Record<string, { host: string; port: number } | null>;
}

function identityOf(tls: TlsSettings): CertificateIdentity | null {
  if (tls.use_identity_as_username) return 'cn'; // Mosquitto: identity wins when both are set
  return tls.use_subject_as_username ? 'subject' : null;
}

/** `seams` and `sessions`: the parts a cluster replaces (seams.ts, broker-sessions.ts); default the single-node ones. `reloader`: SIGHUP certificate reload. */
export function createMqttService(deps: MqttDeps, seams?: SeamFactory, sessions?: SessionsFactory, reloader: TlsReloader | null = null): MqttService {
  const broker = new Broker(deps, seams, sessions);
  const { config, clock, logger } = deps;
  const hosts = Object.values(config.hosts);
  const framing = mqttWsFraming(Math.max(...hosts.map((h) => h.mqtt.max_packet_size)));
  const handshakeTimeoutMs = broker.gate.handshakeTimeoutMs;
  let running: RunningListener[] = [];

  /** One ConnectionDeps per certificate mode: the broker's, with the listener's `identity`. */
  const depsFor = (identity: CertificateIdentity | null): ConnectionDeps => {
    const base = broker.connectionDeps;
    return identity === null ? base : { ...base, gate: { ...base.gate, identity } };
  };
  const serveWith = (cd: ConnectionDeps) => (stream: TransportConn, ip: string) => {
    broker.accepted(new MqttConnection(stream, ip, cd));
  };
  const serve = serveWith(broker.connectionDeps);
  const tcpRate = new ListenerRate('mqtt', config.listeners.mqtt.max_conn_rate, clock);

  const tlsPlan = (tls: TlsSettings) => ({
    options: serverTlsOptions(tls, loadSecureOptions(tls)),
    reload: () => loadSecureOptions(tls),
  });

  function plans(): ListenerPlan[] {
    const l = config.listeners;
    const out: ListenerPlan[] = [{ name: 'mqtt', kind: 'tcp', host: l.mqtt.host, port: l.mqtt.port, maxConnRate: l.mqtt.max_conn_rate, onConnection: serve }];
    if (l.mqtts) {
      out.push({ name: 'mqtts', kind: 'tls', host: l.mqtts.host, port: l.mqtts.port, maxConnRate: l.mqtts.max_conn_rate, onConnection: serveWith(depsFor(identityOf(l.mqtts.tls))), tls: tlsPlan(l.mqtts.tls) });
    }
    if (l.mqtt_ws) {
      const w = l.mqtt_ws;
      out.push({ name: 'mqtt_ws', kind: 'ws', host: w.host, port: w.port, maxConnRate: w.max_conn_rate, onConnection: serve, ws: { path: w.path, checkOrigin: w.check_origin, framing } });
    }
    if (l.mqtt_wss) {
      const w = l.mqtt_wss;
      const onConnection = serveWith(depsFor(identityOf(w.tls)));
      out.push({ name: 'mqtt_wss', kind: 'wss', host: w.host, port: w.port, maxConnRate: w.max_conn_rate, onConnection, tls: tlsPlan(w.tls), ws: { path: w.path, checkOrigin: w.check_origin, framing } });
    }
    return out;
  }

  return {
    name: 'mqtt',
    broker,
    handle(stream, remoteIp = '127.0.0.1') {
      if (!broker.gate.attempt(remoteIp, tcpRate) || !broker.gate.admit(remoteIp)) {
        stream.destroy();
        return null;
      }
      const conn = new MqttConnection(stream, remoteIp, broker.connectionDeps);
      broker.accepted(conn);
      return conn;
    },
    wsEndpoint: (path) => ({ path, framing, gate: broker.gate, onConnection: serve }),
    async start() {
      running = await startListeners(plans(), { gate: broker.gate, handshakeTimeoutMs, clock, logger, metrics: deps.metrics, reloader });
    },
    async stop() {
      broker.shutdown();
      const r = running;
      running = [];
      await stopListeners(r, reloader);
    },
    address: () => addressesOf(running)['mqtt'] ?? null,
    listenerAddresses: () => addressesOf(running),
  };
}
