/**
 * End to end against a real Aedes broker (its own process, $SYS events on): mqtt.js clients (a
 * client nobody here wrote) connect, take over and leave; the watcher's rows follow. Then the test
 * kills the broker: after gateway_timeout the rows go offline with gateway_down; the broker comes
 * back on the same port, the watcher reconnects and rows return as clients connect again (Aedes
 * has no snapshot API: a client that reconnected before the watcher did stays unseen until its
 * next connect; docs/gateways.md).
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { PresenceView } from '../../src/presence/types.js';
import { until } from '../support/until.js';
import { type Running, startAedes, startVigil } from './servers.js';

let broker: Running;
let app: App;
const clients: mqtt.MqttClient[] = [];

beforeAll(async () => {
  broker = await startAedes(undefined, 300);
  app = await startVigil(
    [
      '  aedes1:',
      '    kind: aedes',
      '    gateway_timeout: 1',
      '    offline_debounce_ms: 300',
      `    mqtt: {url: "mqtt://127.0.0.1:${broker.port}", ping_interval: 1, ping_ack_timeout: 1, reconnect_min_ms: 50, reconnect_max_ms: 200}`,
    ].join('\n'),
  );
});

afterAll(async () => {
  for (const c of clients) c.end(true);
  await app?.stop();
  await broker?.stop();
});

const row = (id: string): PresenceView | undefined => app.deps.presence.get({ host: 'localhost', transport: 'mqtt', id, source: 'aedes1' });
const gw = () => app.gateways.get('aedes1')!.status();

function client(id: string, reconnectPeriod = 0): Promise<mqtt.MqttClient> {
  const c = mqtt.connect(`mqtt://127.0.0.1:${broker.port}`, { clientId: id, reconnectPeriod, connectTimeout: 2_000 });
  c.on('error', () => undefined);
  clients.push(c);
  return new Promise((resolve) => c.once('connect', () => resolve(c)));
}

describe('Aedes gateway (MQTT watcher on $SYS)', () => {
  it('follows clients: online with the broker id as node, a takeover stays online, a leave goes offline after the debounce', async () => {
    await until(() => gw().state === 'up', { capMs: 5_000, everyMs: 5 });
    const first = await client('dev1');
    await until(() => row('dev1')?.state === 'online', { capMs: 5_000, everyMs: 5 });
    expect(row('dev1')).toMatchObject({ source: 'aedes1', liveness: 'active' });
    expect(typeof row('dev1')?.meta.node).toBe('string');
    const gen = row('dev1')!.generation;

    // Same client id again: Aedes closes the first ([MQTT-3.1.4-2]) and reports disconnect then new.
    const second = await client('dev1');
    await until(() => first.disconnected || !first.connected, { capMs: 5_000, everyMs: 5 });
    await new Promise((r) => setTimeout(r, 500)); // past offline_debounce_ms
    expect(row('dev1')?.state).toBe('online');
    expect(row('dev1')?.generation).not.toBe(gen);

    second.end();
    await until(() => row('dev1')?.state === 'offline', { capMs: 5_000, everyMs: 5 });
    expect(row('dev1')?.last_disconnect_reason).toBe('gateway_offline');
    expect(gw().nodes).toHaveLength(1); // the broker id, heard on $SYS/<id>/heartbeat
  });

  it('takes every row down with gateway_down when the broker is killed, and follows again once it is back', async () => {
    await client('dev2');
    await until(() => row('dev2')?.state === 'online', { capMs: 5_000, everyMs: 5 });
    const t0 = Date.now();
    broker.signal('SIGKILL');
    await until(() => gw().state === 'unreachable', { capMs: 5_000, everyMs: 5 });
    await until(() => row('dev2')?.state === 'offline', { capMs: 5_000, everyMs: 5 });
    expect(row('dev2')?.last_disconnect_reason).toBe('gateway_down');
    expect(gw().state).toBe('down');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1_000); // gateway_timeout
    await broker.stop();

    broker = await startAedes(broker.port, 300);
    await until(() => gw().state === 'up', { capMs: 5_000, everyMs: 5 });
    // No snapshot API: a row comes back with the client's next connect the watcher sees.
    await client('dev2');
    await until(() => row('dev2')?.state === 'online', { capMs: 5_000, everyMs: 5 });
    const metrics = (await app.http.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/vigil_gateway_rows_down_total\{gateway="aedes1",scope="gateway"\} 1/);
    expect(metrics).toMatch(/vigil_gateway_up\{gateway="aedes1"\} 1/);
  });
});
