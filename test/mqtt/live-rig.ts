/**
 * The harness's service on a real socket (127.0.0.1, port 0) for end-to-end tests with real clients:
 * started before the file's tests, stopped after them, with the mqtt.js clients it connected.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll } from 'vitest';
import { rig, type RigOptions } from './harness.js';

export function liveRig(opts: RigOptions = {}, before?: (r: ReturnType<typeof rig>) => void) {
  const r = rig({ realTime: true, ...opts });
  const clients: MqttClient[] = [];
  let port = 0;
  beforeAll(async () => {
    before?.(r);
    await r.service.start();
    port = r.service.address()!.port;
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await r.service.stop();
  });
  /** An mqtt.js client, connected (no reconnects). */
  const connect = (opts: mqtt.IClientOptions = {}): Promise<MqttClient> =>
    new Promise((resolve, reject) => {
      const c = mqtt.connect({ host: '127.0.0.1', port, reconnectPeriod: 0, connectTimeout: 3000, ...opts });
      clients.push(c);
      c.once('connect', () => resolve(c));
      c.once('error', reject);
    });
  return {
    r,
    clients,
    connect,
    get port() {
      return port;
    },
  };
}
