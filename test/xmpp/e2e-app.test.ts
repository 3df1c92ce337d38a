/**
 * The XMPP service as composed by app.ts, with the REST API on real sockets: a real client
 * (@xmpp/client) logs in, shows up in GET /v1/hosts/{host}/endpoints with its presence and liveness,
 * answers a REST ping-now, and a REST kick closes its stream with policy-violation (reason kicked).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { client, xml } from '@xmpp/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../../src/app.js';
import { makeUserRecord } from '../../src/auth/users.js';
import { parseConfig } from '../../src/config/load.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { pino } from 'pino';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

let app: App;
const HOST = 'example.org';

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-app-'));
  const loaded = parseConfig(
    [
      `data_dir: ${dir}`,
      'listeners: {xmpp: {host: 127.0.0.1, port: 0}, mqtt: {host: 127.0.0.1, port: 0}, http: {host: 127.0.0.1, port: 0}}',
      `hosts: {${HOST}: {}}`,
      'api: {token: test-token-0123456789}',
    ].join('\n'),
    join(dir, 'vigil.yaml'),
  );
  const store = createMemoryStore();
  store.users.put(makeUserRecord(HOST, 'alice', 'secret', { now: () => Date.now() }));
  app = createApp({ loaded, store, mqtt: false, processMetrics: false, logger: pino({ level: 'silent' }) });
  await app.start();
});
afterAll(async () => app.stop());

const api = (path: string, method = 'GET') =>
  fetch(`http://127.0.0.1:${app.addresses().http?.port}/v1${path}`, { method, headers: { authorization: 'Bearer test-token-0123456789' } });

describe('XMPP through the app', () => {
  it('endpoint listed with presence and liveness, REST ping-now answered, REST kick -> policy-violation', async () => {
    const c = client({ service: `xmpp://127.0.0.1:${app.addresses().xmpp?.port}`, domain: HOST, username: 'alice', password: 'secret', resource: 'laptop' });
    const errors: string[] = [];
    c.on('error', (e: { condition?: string }) => errors.push(e.condition ?? String(e)));
    c.reconnect.stop();
    c.iqCallee.get('urn:xmpp:ping', 'ping', () => ({}));
    await c.start();
    await c.send(xml('presence', {}, xml('show', {}, 'away'), xml('status', {}, 'in a meeting')));
    let list: { items: Array<Record<string, unknown>> } = { items: [] };
    for (let i = 0; i < 100 && list.items[0]?.available !== true; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 20));
      list = (await (await api(`/hosts/${HOST}/endpoints?transport=xmpp`)).json()) as typeof list;
    }
    expect(list.items[0]).toMatchObject({
      id: `alice@${HOST}/laptop`,
      state: 'online',
      available: true,
      show: 'away',
      status: 'in a meeting',
      liveness: 'active',
      meta: { tls: true, sasl_mechanism: 'SCRAM-SHA-1' },
    });
    const ping = await api(`/hosts/${HOST}/endpoints/xmpp/${encodeURIComponent(`alice@${HOST}/laptop`)}/ping`, 'POST');
    expect(ping.status).toBe(200);
    expect(typeof ((await ping.json()) as { rtt_ms: unknown }).rtt_ms).toBe('number');
    const closed = new Promise((r) => c.once('disconnect', r));
    const kick = await api(`/hosts/${HOST}/endpoints/xmpp/${encodeURIComponent(`alice@${HOST}/laptop`)}`, 'DELETE');
    expect(kick.status).toBeLessThan(300);
    await closed;
    expect(errors).toContain('policy-violation');
    const rows = (await (await api(`/hosts/${HOST}/endpoints/xmpp/${encodeURIComponent(`alice@${HOST}/laptop`)}`)).json()) as { items: unknown[] };
    expect(rows.items[0]).toMatchObject({ state: 'offline', last_disconnect_reason: 'kicked' });
    await c.stop().catch(() => undefined);
  });
});
