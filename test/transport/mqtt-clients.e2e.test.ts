/**
 * End-to-end (issue 14): the app with every MQTT transport on real sockets, driven by clients
 * nobody here wrote: mqtt.js over ws:// (dedicated listener and the HTTP listener's mqtt_path), wss://
 * and mqtts:// with a client certificate, Debian's python3-paho-mqtt over WebSocket and TLS,
 * mosquitto_pub / mosquitto_sub with --cafile/--cert/--key. Mutual TLS with a CA, a CRL and a
 * revoked certificate made by `openssl` (test/support/pki.ts); use_identity_as_username. The rows
 * say which transport (`via`), and `?via=` filters them. Missing paho or mosquitto clients fail
 * in CI (CI=true) and skip locally with a message.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { type Pki, makePki } from '../support/pki.js';
import { until } from '../support/until.js';

const HOST = 'example.org';
const TOKEN = 'test-token-0123456789';
const PYTHON = '/usr/bin/python3';
const PAHO = fileURLToPath(new URL('../mqtt/clients/paho-transport.py', import.meta.url));

const hasPaho = (() => {
  try {
    execFileSync(PYTHON, ['-c', 'import paho.mqtt.client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const hasMosquitto = existsSync('/usr/bin/mosquitto_pub') && existsSync('/usr/bin/mosquitto_sub');
if ((!hasPaho || !hasMosquitto) && process.env.CI) throw new Error('python3-paho-mqtt and mosquitto-clients are required in CI (.ci/apt-packages)');
if (!hasPaho) console.warn('python3-paho-mqtt not installed: skipping the paho transport tests');
if (!hasMosquitto) console.warn('mosquitto-clients not installed: skipping the mosquitto TLS tests');

let app: App;
let pki: Pki;
let dir: string;
const clients: MqttClient[] = [];

beforeAll(async () => {
  pki = await makePki({ dev1: '/CN=dev1/O=Acme', paho: '/CN=paho-dev', mosq: '/CN=mosq-dev', nocn: '/O=Acme Without CN', revoked: '/CN=revoked-dev' }, ['revoked']);
  dir = mkdtempSync(join(tmpdir(), 'vigil-transports-'));
  const tls = `{certfile: ${pki.serverCert}, keyfile: ${pki.serverKey}, cafile: ${pki.ca}, crlfile: ${pki.crl}, require_certificate: true, use_identity_as_username: true}`;
  const loaded = parseConfig(
    [
      `data_dir: ${dir}`,
      'listeners:',
      '  xmpp: {host: 127.0.0.1, port: 0}',
      '  mqtt: {host: 127.0.0.1, port: 0}',
      '  http: {host: 127.0.0.1, port: 0, mqtt_path: /mqtt}',
      '  mqtt_ws: {host: 127.0.0.1, port: 0}',
      `  mqtts: {host: 127.0.0.1, port: 0, tls: ${tls}}`,
      `  mqtt_wss: {host: 127.0.0.1, port: 0, tls: {certfile: ${pki.serverCert}, keyfile: ${pki.serverKey}}}`,
      `hosts: {${HOST}: {mqtt: {allow_anonymous: true}}}`,
      `api: {token: ${TOKEN}}`,
    ].join('\n'),
    join(dir, 'vigil.yaml'),
  );
  app = createApp({ loaded, store: createMemoryStore(), xmpp: false, processMetrics: false, logger: pino({ level: 'silent' }) });
  await app.start();
});
afterAll(async () => {
  for (const c of clients) c.end(true);
  await app.stop();
  pki.remove();
  rmSync(dir, { recursive: true, force: true });
});

const port = (name: string) => app.addresses()[name]!.port;
const api = async <T>(path: string): Promise<T> => (await (await fetch(`http://127.0.0.1:${port('http')}/v1${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as T;
type Rows = { items: Array<{ id: string; via: string | null; state: string; meta: Record<string, unknown> }> };
const rowOf = async (id: string) => (await api<Rows>(`/hosts/${HOST}/endpoints?transport=mqtt`)).items.find((r) => r.id === id && r.state === 'online');

function connect(url: string, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 4000, ...opts });
    clients.push(c);
    c.once('connect', () => resolve(c));
    c.once('error', reject);
    c.once('close', () => reject(new Error('closed before CONNACK')));
  });
}

async function roundTrip(c: MqttClient, topic: string): Promise<string> {
  await c.subscribeAsync(topic, { qos: 1 });
  const got = new Promise<string>((resolve) => c.once('message', (_t, p) => resolve(p.toString())));
  await c.publishAsync(topic, `hello ${topic}`, { qos: 1 });
  return got;
}

const tlsOf = (name: keyof Pki['clients']) => ({ ca: readFileSync(pki.ca), cert: readFileSync(pki.clients[name]!.cert), key: readFileSync(pki.clients[name]!.key) });

describe('mqtt.js', () => {
  it('over ws:// on listeners.mqtt_ws and on the HTTP listener (mqtt_path): round trip, rows say ws, ?via=ws filters', async () => {
    const a = await connect(`ws://127.0.0.1:${port('mqtt_ws')}/mqtt`, { clientId: 'js-ws' });
    const b = await connect(`ws://127.0.0.1:${port('http')}/mqtt`, { clientId: 'js-http-ws', protocolVersion: 5 });
    expect(await roundTrip(a, 'ws/a')).toBe('hello ws/a');
    expect(await roundTrip(b, 'ws/b')).toBe('hello ws/b');
    await until(async () => (await rowOf('js-http-ws')) !== undefined);
    expect(await rowOf('js-ws')).toMatchObject({ via: 'ws' });
    expect(await rowOf('js-http-ws')).toMatchObject({ via: 'ws' });
    const tcp = await connect(`mqtt://127.0.0.1:${port('mqtt')}`, { clientId: 'js-tcp' });
    await until(async () => (await rowOf('js-tcp')) !== undefined);
    const ws = await api<Rows>(`/hosts/${HOST}/endpoints?via=ws&state=online`);
    expect(ws.items.map((r) => r.id).sort()).toEqual(['js-http-ws', 'js-ws']);
    const metrics = await (await fetch(`http://127.0.0.1:${port('http')}/metrics`)).text();
    expect(metrics).toMatch(/vigil_connections\{host="example.org",transport="mqtt",via="ws"\} 2/);
    for (const c of [a, b, tcp]) await c.endAsync();
  });

  it('over wss:// on listeners.mqtt_wss (no client certificate asked): round trip, the row says wss', async () => {
    const c = await connect(`wss://127.0.0.1:${port('mqtt_wss')}/mqtt`, { clientId: 'js-wss', ca: readFileSync(pki.ca) });
    expect(await roundTrip(c, 'wss/a')).toBe('hello wss/a');
    await until(async () => (await rowOf('js-wss')) !== undefined);
    expect(await rowOf('js-wss')).toMatchObject({ via: 'wss' });
    await c.endAsync();
  });

  it('over mqtts:// with a client certificate: the username is its CN (CONNECT credentials ignored), the row says tls', async () => {
    const c = await connect(`mqtts://127.0.0.1:${port('mqtts')}`, { clientId: 'js-tls', username: 'someone-else', password: 'ignored', ...tlsOf('dev1') });
    expect(await roundTrip(c, 'tls/a')).toBe('hello tls/a');
    await until(async () => (await rowOf('js-tls')) !== undefined);
    expect(await rowOf('js-tls')).toMatchObject({ via: 'tls', meta: expect.objectContaining({ username: 'dev1' }) });
    await c.endAsync();
  });

  it('a certificate without a CN gets CONNACK "bad user name or password"; a revoked one and none fail the handshake', async () => {
    await expect(connect(`mqtts://127.0.0.1:${port('mqtts')}`, { clientId: 'js-nocn', ...tlsOf('nocn') })).rejects.toMatchObject({ code: 4 });
    await expect(connect(`mqtts://127.0.0.1:${port('mqtts')}`, { clientId: 'js-revoked', ...tlsOf('revoked') })).rejects.toThrow();
    await expect(connect(`mqtts://127.0.0.1:${port('mqtts')}`, { clientId: 'js-nocert', ca: readFileSync(pki.ca) })).rejects.toThrow();
    expect(await rowOf('js-revoked')).toBeUndefined();
    const metrics = await (await fetch(`http://127.0.0.1:${port('http')}/metrics`)).text();
    expect(metrics).toMatch(/vigil_tls_handshake_errors_total\{listener="mqtts"\} [2-9]/);
  });

  it('an upgrade without an MQTT subprotocol gets HTTP 400, not a 101', async () => {
    const res = await new Promise<string>((resolve, reject) => {
      const s = netConnect(port('mqtt_ws'), '127.0.0.1', () => {
        s.write('GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
      });
      let out = '';
      s.on('data', (d: Buffer) => (out += d.toString()));
      s.on('close', () => resolve(out));
      s.on('error', reject);
    });
    expect(res).toMatch(/^HTTP\/1.1 400 /);
  });
});

describe.skipIf(!hasPaho && !process.env.CI)('Debian python3-paho-mqtt', () => {
  const paho = (args: string[]) =>
    new Promise<Array<Record<string, unknown>>>((resolve, reject) =>
      execFile(PYTHON, [PAHO, ...args], { timeout: 15_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)),
      ),
    );

  it('transport="websockets": CONNACK 0, its message comes back', async () => {
    const out = await paho(['ws', String(port('mqtt_ws')), 'paho-ws', '/mqtt']);
    expect(out).toContainEqual({ event: 'connack', rc: 0 });
    expect(out).toContainEqual({ event: 'message', topic: 'paho/paho-ws', payload: 'hello from paho over ws', qos: 1 });
  });

  it('TLS with a client certificate: CONNACK 0, its message comes back', async () => {
    const c = pki.clients.paho!;
    const out = await paho(['tls', String(port('mqtts')), 'paho-tls', pki.ca, c.cert, c.key]);
    expect(out).toContainEqual({ event: 'connack', rc: 0 });
    expect(out).toContainEqual({ event: 'message', topic: 'paho/paho-tls', payload: 'hello from paho over tls', qos: 1 });
  });
});

describe.skipIf(!hasMosquitto && !process.env.CI)('mosquitto_pub / mosquitto_sub with --cafile/--cert/--key', () => {
  it('a message published over mqtts reaches a subscriber over mqtts', async () => {
    const c = pki.clients.mosq!;
    const tls = ['-h', '127.0.0.1', '-p', String(port('mqtts')), '--cafile', pki.ca, '--cert', c.cert, '--key', c.key];
    const sub = new Promise<string>((resolve, reject) =>
      execFile('mosquitto_sub', [...tls, '-i', 'mosq-sub', '-t', 'mosq/tls', '-C', '1', '-W', '10', '-q', '1'], { timeout: 12_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.trim()),
      ),
    );
    await until(async () => (await rowOf('mosq-sub')) !== undefined);
    expect(await rowOf('mosq-sub')).toMatchObject({ via: 'tls' });
    await new Promise<void>((resolve, reject) =>
      execFile('mosquitto_pub', [...tls, '-i', 'mosq-pub', '-t', 'mosq/tls', '-m', 'over tls', '-q', '1'], { timeout: 10_000 }, (err, _o, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve())),
    );
    expect(await sub).toBe('over tls');
  });
});
