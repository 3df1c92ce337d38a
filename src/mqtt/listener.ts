/**
 * The MQTT listener as a Service: a plain `net` server on listeners.mqtt, one MqttConnection per
 * socket, one Broker for all hosts. stop() closes every client with reason `shutdown` (v5
 * DISCONNECT 0x8B), commits pending session writes and stops listening (the store closes after).
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Service } from '../deps.js';
import { Broker, type MqttDeps } from './broker.js';
import { MqttConnection } from './connection.js';
import type { SessionsFactory } from './broker-sessions.js';
import type { SeamFactory } from './seams.js';

export interface MqttService extends Service {
  /** Serve one already-open stream (tests use an in-memory duplex). */
  handle(stream: Duplex, remoteIp?: string): MqttConnection;
  readonly broker: Broker;
}

/** `seams` and `sessions`: the parts a cluster replaces (seams.ts, broker-sessions.ts); default the single-node ones. */
export function createMqttService(deps: MqttDeps, seams?: SeamFactory, sessions?: SessionsFactory): MqttService {
  const broker = new Broker(deps, seams, sessions);
  let server: Server | null = null;
  let bound: { host: string; port: number } | null = null;

  const handle = (stream: Duplex, remoteIp = '127.0.0.1'): MqttConnection => {
    const conn = new MqttConnection(stream, remoteIp, broker.connectionDeps);
    broker.accepted(conn);
    return conn;
  };

  return {
    name: 'mqtt',
    broker,
    handle,
    async start() {
      const { host, port } = deps.config.listeners.mqtt;
      const srv = createServer({ noDelay: true }, (socket: Socket) => {
        handle(socket, socket.remoteAddress ?? 'unknown');
      });
      server = srv;
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(port, host, () => {
          srv.off('error', reject);
          resolve();
        });
      });
      const a = srv.address();
      bound = a && typeof a === 'object' ? { host: a.address, port: a.port } : null;
      deps.logger.info({ event: 'mqtt_listening', ...bound }, 'MQTT listener started');
    },
    async stop() {
      broker.shutdown();
      const srv = server;
      server = null;
      if (srv) await new Promise<void>((resolve) => srv.close(() => resolve()));
    },
    address: () => bound,
  };
}
