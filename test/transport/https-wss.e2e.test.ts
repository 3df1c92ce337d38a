/**
 * End-to-end (issue 14): the HTTP listener with a `tls:` block serves HTTPS, XEP-0156 host-meta
 * names the wss: endpoint, and @xmpp/client logs in over wss:// at /xmpp-websocket: the stream is
 * secure from its first byte (no STARTTLS over WebSocket), the row says wss.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { client, xml } from '@xmpp/client';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type App, createApp } from '../../src/app.js';
import { makeUserRecord } from '../../src/auth/users.js';
import { parseConfig } from '../../src/config/load.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { type Pki, makePki } from '../support/pki.js';
import { until } from '../support/until.js';

// The test CA is not in Node's store: the WebSocket client and fetch accept the server's certificate.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

const HOST = 'example.org';
const TOKEN = 'test-token-0123456789';
let app: App;
let pki: Pki;
let dir: string;

beforeAll(async () => {
  pki = await makePki({});
  dir = mkdtempSync(join(tmpdir(), 'vigil-https-'));
  const loaded = parseConfig(
    [
      `data_dir: ${dir}`,
      `listeners: {xmpp: {host: 127.0.0.1, port: 0}, mqtt: {host: 127.0.0.1, port: 0}, http: {host: 127.0.0.1, port: 0, tls: {certfile: ${pki.serverCert}, keyfile: ${pki.serverKey}}}}`,
      `hosts: {${HOST}: {}}`,
      `api: {token: ${TOKEN}}`,
    ].join('\n'),
    join(dir, 'vigil.yaml'),
  );
  const store = createMemoryStore();
  store.users.put(makeUserRecord(HOST, 'alice', 'secret', { now: () => Date.now() }));
  app = createApp({ loaded, store, mqtt: false, processMetrics: false, logger: pino({ level: 'silent' }) });
  await app.start();
});
afterAll(async () => {
  await app.stop();
  pki.remove();
  rmSync(dir, { recursive: true, force: true });
});

it('HTTPS host-meta names wss:, @xmpp/client logs in over wss:// (PLAIN offered: encrypted from the first byte), the row says wss', async () => {
  const base = `https://127.0.0.1:${app.addresses().http!.port}`;
  const jrd = (await (await fetch(`${base}/.well-known/host-meta.json`)).json()) as { links: Array<{ href: string }> };
  const href = jrd.links[0]!.href;
  expect(href).toBe(`wss://127.0.0.1:${app.addresses().http!.port}/xmpp-websocket`);

  const c = client({ service: href, domain: HOST, username: 'alice', password: 'secret', resource: 'secure' });
  c.reconnect.stop();
  const features: string[] = [];
  c.on('nonza', (el: { is(n: string): boolean; toString(): string }) => {
    if (el.is('features')) features.push(el.toString());
  });
  await c.start();
  await c.send(xml('presence', {}));
  const row = async () => {
    const res = await fetch(`${base}/v1/hosts/${HOST}/endpoints?via=wss`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return ((await res.json()) as { items: Array<{ id: string; via: string; meta: Record<string, unknown> }> }).items[0];
  };
  await until(async () => (await row()) !== undefined);
  expect(await row()).toMatchObject({ id: `alice@${HOST}/secure`, via: 'wss', meta: expect.objectContaining({ tls: true }) });
  expect(features[0]).toContain('<mechanism>PLAIN</mechanism>');
  expect(features[0]).not.toContain('starttls');
  await c.stop();
});
