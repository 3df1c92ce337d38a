/**
 * REST end to end: the whole app (createApp: store, liveness, presence, XMPP, MQTT, HTTP) on real
 * sockets (127.0.0.1, port 0) with clients nobody here wrote: @xmpp/client and mqtt.js, and the
 * change feed read as SSE over a real HTTP connection. Real time, so intervals are 1 s.
 *
 * Checks the issue's story: both clients appear in the list; PATCH lowers ping_interval and pings
 * come (at 60 s none would within the test); ping-now answers an rtt; kick closes each client and
 * the SSE stream shows offline with reason `kicked`; SSE resumes with Last-Event-ID with no gap.
 * When the pings come is asserted under the manual clock (test/http/hosts.test.ts,
 * test/xmpp/stream.test.ts), not here: wall-clock gaps on a loaded machine prove nothing.
 */
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { client, xml } from '@xmpp/client';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { until } from '../support/until.js';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

const DOMAIN = 'localhost';
const TOKEN = 'e2e-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };

let app: App;
let dataDir: string;
let base = '';
const closers: Array<() => Promise<unknown> | void> = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'vigil-http-e2e-'));
  const yaml = `
data_dir: ${JSON.stringify(dataDir)}
listeners:
  xmpp: { host: 127.0.0.1, port: 0 }
  mqtt: { host: 127.0.0.1, port: 0 }
  http: { host: 127.0.0.1, port: 0 }
api: { token: ${TOKEN} }
hosts:
  ${DOMAIN}:
    ping: { send_pings: true, ping_interval: 60, ping_ack_timeout: 2, timeout_action: kill }
`;
  const loaded = parseConfig(yaml, join(dataDir, 'vigil.yaml'));
  app = createApp({ loaded, store: createMemoryStore(), logger: pino({ level: 'silent' }), processMetrics: false });
  await app.start();
  const a = app.addresses().http!;
  base = `http://127.0.0.1:${a.port}`;
});

afterAll(async () => {
  for (const c of closers.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  await app?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

// Response bodies are checked field by field with expect(); their schemas are tested by inject tests.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...AUTH, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

interface SseEvent {
  id: number;
  data: { seq: number; kind: string; transport: string; id: string; reason?: string };
}

/** A minimal SSE client on a real socket (WHATWG HTML §9.2), enough for id/data frames. */
function openSse(lastEventId: number | null): { events: SseEvent[]; close(): void; ready: Promise<void> } {
  const events: SseEvent[] = [];
  let buf = '';
  const headers: Record<string, string> = { ...AUTH, accept: 'text/event-stream' };
  if (lastEventId !== null) headers['last-event-id'] = String(lastEventId);
  const url = new URL('/v1/events', base);
  let resolveReady: () => void = () => undefined;
  const ready = new Promise<void>((res) => (resolveReady = res));
  const req = request(url, { headers }, (res) => {
    expect(res.statusCode).toBe(200);
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const id = /^id: (\d+)$/m.exec(block);
        const data = /^data: (.*)$/m.exec(block);
        if (id && data) events.push({ id: Number(id[1]), data: JSON.parse(data[1]!) });
        if (block.startsWith('retry:')) resolveReady();
      }
    });
    res.on('error', () => undefined);
  });
  req.on('error', () => undefined);
  req.end();
  const close = (): void => void req.destroy();
  closers.push(close);
  return { events, close, ready };
}

describe('REST end to end with @xmpp/client and mqtt.js', () => {
  it('lists both, re-arms pings on PATCH, pings now, kicks, and the SSE feed resumes without a gap', async () => {
    // Users through the API itself.
    expect((await api('POST', `/v1/hosts/${DOMAIN}/users`, { user: 'alice', password: 'secret' })).status).toBe(201);
    expect((await api('POST', `/v1/hosts/${DOMAIN}/users`, { user: 'dev', password: 'pw' })).status).toBe(201);

    // SSE reader from the start of the feed.
    const sse1 = openSse(0);
    await sse1.ready;

    // A real XMPP client that answers pings.
    const xmppPort = app.addresses().xmpp!.port;
    const alice = client({ service: `xmpp://127.0.0.1:${xmppPort}`, domain: DOMAIN, username: 'alice', password: 'secret', resource: 'laptop' });
    alice.reconnect.stop();
    alice.iqCallee.get('urn:xmpp:ping', 'ping', () => ({}));
    // Answered probes: @xmpp/client enables stream management, so they are <r/> answered by <a/> (XEP-0198).
    let pings = 0;
    app.deps.liveness.subscribe((e) => {
      if (e.type === 'probe_answered' && e.ref.transport === 'xmpp') pings++;
    });
    let aliceOffline = false;
    let aliceStreamError: string | null = null;
    alice.on('disconnect', () => (aliceOffline = true));
    alice.on('error', (err: { condition?: string }) => (aliceStreamError = err.condition ?? null));
    await alice.start();
    closers.push(() => alice.stop());
    await alice.send(xml('presence'));

    // A real MQTT v5 client.
    const mqttPort = app.addresses().mqtt!.port;
    const sensor: MqttClient = await new Promise((resolve, reject) => {
      const c = mqtt.connect({ host: '127.0.0.1', port: mqttPort, clientId: 'sensor-1', username: 'dev', password: 'pw', protocolVersion: 5, reconnectPeriod: 0, keepalive: 30 });
      c.once('connect', () => resolve(c));
      c.once('error', reject);
    });
    closers.push(() => void sensor.end(true));
    let mqttDisconnectReason: number | null = null;
    sensor.on('disconnect', (pkt) => (mqttDisconnectReason = pkt.reasonCode ?? null));
    let sensorClosed = false;
    sensor.on('close', () => (sensorClosed = true));

    // The list shows both.
    await until(() => sse1.events.length >= 2, { capMs: 5_000, everyMs: 10 });
    const list = await api('GET', `/v1/hosts/${DOMAIN}/endpoints`);
    expect(list.status).toBe(200);
    const byId = Object.fromEntries(list.json.items.map((e: { id: string }) => [e.id, e]));
    expect(byId[`alice@${DOMAIN}/laptop`]).toMatchObject({ transport: 'xmpp', state: 'online', available: true, liveness: 'active' });
    expect(byId['sensor-1']).toMatchObject({ transport: 'mqtt', state: 'online' });
    const one = await api('GET', `/v1/hosts/${DOMAIN}/endpoints/xmpp/${encodeURIComponent(`alice@${DOMAIN}`)}`);
    expect(one.json.items.map((e: { id: string }) => e.id)).toEqual([`alice@${DOMAIN}/laptop`]);
    const hosts = await api('GET', '/v1/hosts');
    expect(hosts.json.items[0]).toMatchObject({ host: DOMAIN, online: { xmpp: 1, mqtt: 1 } });

    // PATCH lowers ping_interval to 1 s: the live timer is re-armed and pings come, answered.
    expect(pings).toBe(0);
    const patched = await api('PATCH', `/v1/hosts/${DOMAIN}/config`, { ping_interval: 1 });
    expect(patched.status).toBe(200);
    expect(patched.json.config.ping_interval).toBe(1);
    await until(() => pings >= 2, { capMs: 6_000, everyMs: 10 });
    expect(app.deps.liveness.get({ host: DOMAIN, transport: 'xmpp', id: `alice@${DOMAIN}/laptop` })?.lastRttMs).not.toBeNull();
    expect((await api('PATCH', `/v1/hosts/${DOMAIN}/config`, { ping_interval: 60 })).status).toBe(200);

    // Ping-now: the XMPP client answers; the MQTT client on mqtt_probe=keepalive cannot be probed.
    const pong = await api('POST', `/v1/hosts/${DOMAIN}/endpoints/xmpp/${encodeURIComponent(`alice@${DOMAIN}/laptop`)}/ping`);
    expect(pong.status).toBe(200);
    expect(pong.json).toMatchObject({ id: `alice@${DOMAIN}/laptop`, answer: 'pong' });
    expect(pong.json.rtt_ms).toBeGreaterThanOrEqual(0);
    expect(pong.json.rtt_ms).toBeLessThan(2_000);
    const noProbe = await api('POST', `/v1/hosts/${DOMAIN}/endpoints/mqtt/sensor-1/ping`);
    expect(noProbe.status).toBe(409);
    expect(noProbe.json.code).toBe('VIGIL_ERR_PING_UNPROBEABLE');

    // SSE reader 1 goes away; changes keep happening.
    await until(() => sse1.events.length >= 2, { capMs: 5_000, everyMs: 10 });
    sse1.close();
    const lastSeen = sse1.events.at(-1)!.id;

    // Kick both.
    const kickM = await api('DELETE', `/v1/hosts/${DOMAIN}/endpoints/mqtt/sensor-1`);
    expect(kickM.status).toBe(200);
    expect(kickM.json.kicked).toEqual([expect.objectContaining({ transport: 'mqtt', id: 'sensor-1' })]);
    const kickX = await api('DELETE', `/v1/hosts/${DOMAIN}/endpoints/xmpp/${encodeURIComponent(`alice@${DOMAIN}`)}`);
    expect(kickX.status).toBe(200);
    await until(() => sensorClosed && aliceOffline, { capMs: 5_000, everyMs: 10 });
    expect(mqttDisconnectReason).toBe(0x98); // MQTT v5 DISCONNECT "Administrative action"
    expect(aliceStreamError).toBe('policy-violation'); // ejabberd kick_session's stream error

    // Resume with Last-Event-ID: the missed changes, no gap, including both offline/kicked.
    const sse2 = openSse(lastSeen);
    await sse2.ready;
    await until(() => sse2.events.filter((e) => e.data.kind === 'offline').length >= 2, { capMs: 5_000, everyMs: 10 });
    const ids = [...sse1.events, ...sse2.events].map((e) => e.id);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => ids[0]! + i));
    expect(ids[0]).toBe(1);
    const offline = sse2.events.filter((e) => e.data.kind === 'offline').map((e) => [e.data.transport, e.data.id, e.data.reason]);
    expect(offline).toEqual(
      expect.arrayContaining([
        ['mqtt', 'sensor-1', 'kicked'],
        ['xmpp', `alice@${DOMAIN}/laptop`, 'kicked'],
      ]),
    );
    const after = await api('GET', `/v1/hosts/${DOMAIN}/endpoints/mqtt/sensor-1`);
    expect(after.json.items[0]).toMatchObject({ state: 'offline', last_disconnect_reason: 'kicked' });

    // Metrics saw it.
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/vigil_kills_total\{host="localhost",transport="mqtt",reason="kicked"\} 1/);
    expect(metrics).toMatch(/vigil_pings_sent_total\{host="localhost",transport="xmpp"\} [1-9]/);
  });
});
