/**
 * End-to-end (issue 14): the app's XMPP transports with clients nobody here wrote: @xmpp/client
 * over ws:// at /xmpp-websocket (RFC 7395) on the HTTP listener, after finding it through
 * XEP-0156 host-meta, and Debian's slixmpp over direct TLS (XEP-0368, listeners.xmpps with the
 * host certificate STARTTLS uses). The rows say ws and tls. Missing slixmpp fails in CI and
 * skips locally with a message.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { client, xml } from '@xmpp/client';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../../src/app.js';
import { makeUserRecord } from '../../src/auth/users.js';
import { parseConfig } from '../../src/config/load.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { until } from '../support/until.js';

const HOST = 'example.org';
const TOKEN = 'test-token-0123456789';
const PYTHON = '/usr/bin/python3';
const SLIX = fileURLToPath(new URL('../xmpp/clients/slixmpp-probe.py', import.meta.url));
const hasSlixmpp = (() => {
  try {
    execFileSync(PYTHON, ['-c', 'import slixmpp'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!hasSlixmpp && process.env.CI) throw new Error('python3-slixmpp is required in CI (.ci/apt-packages)');
if (!hasSlixmpp) console.warn('python3-slixmpp not installed: skipping the direct TLS end-to-end test');

let app: App;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-xmpp-transports-'));
  const loaded = parseConfig(
    [
      `data_dir: ${dir}`,
      'listeners: {xmpp: {host: 127.0.0.1, port: 0}, xmpps: {host: 127.0.0.1, port: 0}, mqtt: {host: 127.0.0.1, port: 0}, http: {host: 127.0.0.1, port: 0}}',
      `hosts: {${HOST}: {xmpp: {tls: optional}}}`,
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
  rmSync(dir, { recursive: true, force: true });
});

const http = () => `http://127.0.0.1:${app.addresses().http!.port}`;
type Rows = { items: Array<{ id: string; via: string | null; state: string; meta: Record<string, unknown> }> };
const rowOf = async (id: string) => {
  const res = await fetch(`${http()}/v1/hosts/${HOST}/endpoints?transport=xmpp`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return ((await res.json()) as Rows).items.find((r) => r.id === id);
};

describe('@xmpp/client over WebSocket (RFC 7395)', () => {
  it('finds the endpoint in host-meta, logs in, answers a server ping, shows via ws', async () => {
    const jrd = (await (await fetch(`${http()}/.well-known/host-meta.json`)).json()) as { links: Array<{ rel: string; href: string }> };
    const href = jrd.links.find((l) => l.rel === 'urn:xmpp:alt-connections:websocket')?.href;
    expect(href).toBe(`ws://127.0.0.1:${app.addresses().http!.port}/xmpp-websocket`);
    const xrd = await (await fetch(`${http()}/.well-known/host-meta`)).text();
    expect(xrd).toContain(`href='${href}'`);

    const c = client({ service: href!, domain: HOST, username: 'alice', password: 'secret', resource: 'web' });
    c.reconnect.stop();
    c.iqCallee.get('urn:xmpp:ping', 'ping', () => ({}));
    await c.start();
    await c.send(xml('presence', {}));
    await until(async () => (await rowOf(`alice@${HOST}/web`))?.state === 'online');
    expect(await rowOf(`alice@${HOST}/web`)).toMatchObject({ via: 'ws', meta: expect.objectContaining({ via: 'ws', tls: false }) });
    const ping = await fetch(`${http()}/v1/hosts/${HOST}/endpoints/xmpp/${encodeURIComponent(`alice@${HOST}/web`)}/ping`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(((await ping.json()) as { answer: string }).answer).toBe('pong');
    // A client-side round trip over the WebSocket too: disco#info of the server.
    const info = await c.iqCaller.request(xml('iq', { type: 'get', to: HOST }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })));
    expect(info.getChild('query')?.getChildren('feature').map((f) => f.attrs.var)).toContain('urn:xmpp:ping');
    await c.stop();
    await until(async () => (await rowOf(`alice@${HOST}/web`))?.state === 'offline');
  });
});

describe.skipIf(!hasSlixmpp && !process.env.CI)('slixmpp over direct TLS (XEP-0368)', () => {
  it('TLS first, then SCRAM-SHA-256, disco and pings; the row says tls', async () => {
    const port = app.addresses()['xmpps']!.port;
    const watch = (async () => {
      await until(async () => (await rowOf(`alice@${HOST}/slix`))?.state === 'online', { capMs: 10_000 });
      return rowOf(`alice@${HOST}/slix`);
    })();
    const out = await new Promise<string>((resolve, reject) =>
      execFile(PYTHON, [SLIX, String(port), `alice@${HOST}/slix`, 'secret', '1', 'direct'], { timeout: 15_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
    );
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.event === 'auth_success')).toMatchObject({ mechanism: 'SCRAM-SHA-256' });
    expect(lines.find((l) => l.event === 'session_start')).toMatchObject({ jid: `alice@${HOST}/slix` });
    expect(typeof lines.find((l) => l.event === 'ping')?.rtt).toBe('number');
    expect(await watch).toMatchObject({ via: 'tls', meta: expect.objectContaining({ tls: true }) });
  });
});
