/**
 * `mqtt_probe: ws_ping` in real time (issue 14; the exact timing is tested on manual time in
 * test/mqtt/ws.test.ts): over a real WebSocket, a client that does not answer Pings gets one
 * WebSocket Ping after ping_interval and is closed at ping_interval + ping_ack_timeout; a client
 * whose WebSocket layer answers (ws's default, as every browser) stays, with its round trip in
 * last_rtt_ms. Wide margins: the machine may be loaded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'mqtt-packet';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type App, createApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { createMemoryStore } from '../../src/store/memory.js';

const HOST = 'example.org';
const TOKEN = 'test-token-0123456789';
let app: App;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-wsping-'));
  const loaded = parseConfig(
    [
      `data_dir: ${dir}`,
      'listeners: {xmpp: {host: 127.0.0.1, port: 0}, mqtt: {host: 127.0.0.1, port: 0}, http: {host: 127.0.0.1, port: 0}, mqtt_ws: {host: 127.0.0.1, port: 0}}',
      `hosts: {${HOST}: {mqtt_probe: ws_ping, ping: {send_pings: true, ping_interval: 1, ping_ack_timeout: 1, timeout_action: kill}, mqtt: {allow_anonymous: true}}}`,
      `api: {token: ${TOKEN}}`,
    ].join('\n'),
    join(dir, 'vigil.yaml'),
  );
  app = createApp({ loaded, store: createMemoryStore(), xmpp: false, processMetrics: false, logger: pino({ level: 'silent' }) });
  await app.start();
});
afterAll(async () => {
  await app.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Timeline {
  connack: number;
  pings: number[];
  closed: Promise<{ at: number; code: number }>;
  ws: WebSocket;
}

function client(id: string, autoPong: boolean): Promise<Timeline> {
  const ws = new WebSocket(`ws://127.0.0.1:${app.addresses()['mqtt_ws']!.port}/mqtt`, 'mqtt', { autoPong });
  const pings: number[] = [];
  ws.on('ping', () => pings.push(performance.now()));
  const closed = new Promise<{ at: number; code: number }>((resolve) => ws.once('close', (code) => resolve({ at: performance.now(), code })));
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => ws.send(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: id, clean: true, keepalive: 60 })));
    ws.once('message', () => resolve({ connack: performance.now(), pings, closed, ws }));
  });
}

it('a silent WebSocket client is pinged at ping_interval and closed at ping_interval + ping_ack_timeout; one that answers stays', async () => {
  const [silent, answering] = await Promise.all([client('silent', false), client('answering', true)]);
  const { at, code } = await silent.closed;
  expect(silent.pings).toHaveLength(1);
  const pingAfter = silent.pings[0]! - silent.connack;
  const closeAfter = at - silent.connack;
  expect(pingAfter).toBeGreaterThan(950);
  expect(pingAfter).toBeLessThan(1_600);
  expect(closeAfter).toBeGreaterThan(1_950);
  expect(closeAfter).toBeLessThan(2_700);
  expect(code).toBe(1000);
  // The answering client got its Ping too, and is still online with a round trip.
  expect(answering.pings.length).toBeGreaterThanOrEqual(1);
  expect(answering.ws.readyState).toBe(WebSocket.OPEN);
  const res = await fetch(`http://127.0.0.1:${app.addresses().http!.port}/v1/hosts/${HOST}/endpoints?transport=mqtt`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const rows = ((await res.json()) as { items: Array<{ id: string; state: string; last_rtt_ms: number | null; last_disconnect_reason: string | null }> }).items;
  expect(rows.find((r) => r.id === 'answering')).toMatchObject({ state: 'online' });
  expect(rows.find((r) => r.id === 'answering')!.last_rtt_ms).toEqual(expect.any(Number));
  expect(rows.find((r) => r.id === 'silent')).toMatchObject({ state: 'offline', last_disconnect_reason: 'ping_timeout' });
  answering.ws.close();
});
