/**
 * Deleting a user ends its sessions (issue 20), end to end: the whole app on real sockets with
 * clients nobody here wrote. alice is online over XMPP (@xmpp/client), MQTT 5 and MQTT 3.1.1
 * (mqtt.js); bob over MQTT. DELETE /v1/hosts/{host}/users/alice: the XMPP stream ends with
 * <not-authorized/>, the MQTT 5 client gets DISCONNECT 0x87, the 3.1.1 client's connection closes,
 * the change feed says `account_deleted` for each, bob stays, and alice cannot log in again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { client } from '@xmpp/client';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { createMemoryStore } from '../../src/store/memory.js';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

const DOMAIN = 'localhost';
const TOKEN = 'e2e-token-account-deleted';
let app: App;
let dataDir: string;
const closers: Array<() => unknown> = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'vigil-account-deleted-'));
  const yaml = `
data_dir: ${JSON.stringify(dataDir)}
listeners:
  xmpp: { host: 127.0.0.1, port: 0 }
  mqtt: { host: 127.0.0.1, port: 0 }
  http: { host: 127.0.0.1, port: 0 }
api: { token: ${TOKEN} }
hosts:
  ${DOMAIN}: {}
`;
  app = createApp({ loaded: parseConfig(yaml, join(dataDir, 'vigil.yaml')), store: createMemoryStore(), logger: pino({ level: 'silent' }), processMetrics: false });
  await app.start();
});

afterAll(async () => {
  for (const c of closers.splice(0)) await Promise.resolve(c()).catch(() => undefined);
  await app?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: { entries?: { seq: number; kind: string; id: string; reason?: string }[] } | null }> {
  const res = await fetch(`http://127.0.0.1:${app.addresses().http!.port}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

function mqttClient(clientId: string, username: string, password: string, protocolVersion: 4 | 5): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect({ host: '127.0.0.1', port: app.addresses().mqtt!.port, clientId, username, password, protocolVersion, reconnectPeriod: 0, keepalive: 60 });
    closers.push(() => c.end(true));
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

describe('DELETE /v1/hosts/{host}/users/{user} with real clients', () => {
  it('ends the XMPP stream (not-authorized) and the MQTT 5 (0x87) and 3.1.1 connections, reason account_deleted', async () => {
    expect((await api('POST', `/v1/hosts/${DOMAIN}/users`, { user: 'alice', password: 'secret' })).status).toBe(201);
    expect((await api('POST', `/v1/hosts/${DOMAIN}/users`, { user: 'bob', password: 'pw' })).status).toBe(201);

    const xmppService = `xmpp://127.0.0.1:${app.addresses().xmpp!.port}`;
    const alice = client({ service: xmppService, domain: DOMAIN, username: 'alice', password: 'secret', resource: 'laptop' });
    alice.reconnect.stop();
    let streamError: string | null = null;
    alice.on('error', (err: { condition?: string }) => (streamError ??= err.condition ?? null));
    const xmppClosed = new Promise((resolve) => alice.once('disconnect', resolve));
    await alice.start();
    closers.push(() => alice.stop());

    const v5 = await mqttClient('alice-v5', 'alice', 'secret', 5);
    const v5Reason = new Promise((resolve) => v5.once('disconnect', (pkt) => resolve(pkt.reasonCode)));
    const v5Closed = new Promise<void>((resolve) => v5.once('close', () => resolve()));
    const v3 = await mqttClient('alice-v3', 'alice', 'secret', 4);
    const v3Closed = new Promise<void>((resolve) => v3.once('close', () => resolve()));
    const bob = await mqttClient('bob-1', 'bob', 'pw', 5);
    let bobClosed = false;
    bob.on('close', () => (bobClosed = true));

    const after = (await api('GET', '/v1/events?after=0&limit=1000')).json!.entries!.at(-1)!.seq;
    expect((await api('DELETE', `/v1/hosts/${DOMAIN}/users/alice`)).status).toBe(204);

    await Promise.all([xmppClosed, v5Closed, v3Closed]);
    expect(streamError).toBe('not-authorized');
    expect(await v5Reason).toBe(0x87);
    const feed = (await api('GET', `/v1/events?after=${after}&limit=1000`)).json!.entries!;
    const offline = feed.filter((e) => e.kind === 'offline').map((e) => [e.id, e.reason]);
    expect(offline).toEqual(expect.arrayContaining([[`alice@${DOMAIN}/laptop`, 'account_deleted'], ['alice-v5', 'account_deleted'], ['alice-v3', 'account_deleted']]));
    expect(offline).toHaveLength(3);
    expect(bobClosed).toBe(false);
    expect(bob.connected).toBe(true);

    // The account is gone: a new login is refused (MQTT 5 CONNACK 0x86 Bad user name or password).
    await expect(mqttClient('alice-again', 'alice', 'secret', 5)).rejects.toMatchObject({ code: 0x86 });
  });
});
