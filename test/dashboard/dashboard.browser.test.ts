/**
 * The dashboard in a real browser (issue 18): Debian's Chromium driven by playwright-core against
 * the whole app (XMPP, MQTT, HTTP on 127.0.0.1 port 0) with clients nobody here wrote: mqtt.js and
 * @xmpp/client. Real time, so intervals are 1-3 s. One browser for the file; the tests run in
 * order on one page, as an operator would: log in, watch clients come, ping, change settings, see
 * a silent client probed and killed, kick, reload. A failed test leaves a screenshot
 * (test/support/chromium.ts prints where).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { client, xml } from '@xmpp/client';
import mqtt, { type MqttClient } from 'mqtt';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type App, createApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { launchChromium, screenshotOnFailure } from '../support/chromium.js';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'; // STARTTLS with the generated self-signed certificate

const DOMAIN = 'localhost';
const TOKEN = 'dashboard-token-0123456789';
const ALICE = `alice@${DOMAIN}/laptop`;

let app: App;
let dataDir: string;
let base = '';
let browser: Browser | null = null;
let context: BrowserContext;
let page: Page | null = null;
let chromiumMissing: Error | null = null;
const pageErrors: string[] = [];
const closers: Array<() => unknown> = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'vigil-dashboard-'));
  const yaml = `
data_dir: ${JSON.stringify(dataDir)}
listeners:
  xmpp: { host: 127.0.0.1, port: 0 }
  mqtt: { host: 127.0.0.1, port: 0 }
  http: { host: 127.0.0.1, port: 0 }
api: { token: ${TOKEN} }
hosts:
  ${DOMAIN}:
    ping: { send_pings: true, ping_interval: 60, ping_ack_timeout: 3, timeout_action: kill }
    # @xmpp/client enables XEP-0198 when offered, and a stream-managed session is probed with <r/>,
    # which its SM module answers by itself: off here, so that these tests count XEP-0199 pings.
    xmpp: { stream_management: false }
`;
  app = createApp({ loaded: parseConfig(yaml, join(dataDir, 'vigil.yaml')), store: createMemoryStore(), logger: pino({ level: 'silent' }), processMetrics: false });
  await app.start();
  base = `http://127.0.0.1:${app.addresses().http!.port}`;
  for (const [user, password] of [['alice', 'secret'], ['dev', 'pw']]) {
    const res = await fetch(`${base}/v1/hosts/${DOMAIN}/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user, password }),
    });
    expect(res.status).toBe(201);
  }
  try {
    browser = await launchChromium();
  } catch (err) {
    // Fail every test with the reason (a failed beforeAll would only mark them skipped).
    chromiumMissing = err as Error;
    return;
  }
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 40[013] /.test(m.text())) pageErrors.push(`console: ${m.text()}`);
  });
});

afterAll(async () => {
  for (const c of closers.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  await browser?.close();
  await app?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

beforeEach(({ task, onTestFailed }) => {
  if (chromiumMissing) throw chromiumMissing;
  onTestFailed(async () => void (await screenshotOnFailure(page, `dashboard-${task.name}`)));
});

const p = () => page!;
const row = (key: string) => p().locator(`tbody tr[data-key="${key}"]`);
const cellOf = (key: string, col: string) => row(key).locator(`td.col-${col}`);
/** An attribute of the focused element (page code as a string: no DOM types in this project). */
const focused = (attr: string) => p().evaluate<string | null>(`document.activeElement?.getAttribute(${JSON.stringify(attr)}) ?? null`);

async function connectMqtt(clientId: string): Promise<MqttClient> {
  const c: MqttClient = await new Promise((resolve, reject) => {
    const m = mqtt.connect({ host: '127.0.0.1', port: app.addresses().mqtt!.port, clientId, username: 'dev', password: 'pw', protocolVersion: 5, reconnectPeriod: 0, keepalive: 30 });
    m.once('connect', () => resolve(m));
    m.once('error', reject);
  });
  closers.push(() => c.end(true));
  return c;
}

/** @xmpp/client that answers pings until told to go silent (then it lets them go unanswered). */
async function connectXmpp() {
  const alice = client({ service: `xmpp://127.0.0.1:${app.addresses().xmpp!.port}`, domain: DOMAIN, username: 'alice', password: 'secret', resource: 'laptop' });
  alice.reconnect.stop();
  const state = { silent: false, pings: 0 };
  alice.iqCallee.get('urn:xmpp:ping', 'ping', () => {
    state.pings++;
    return state.silent ? new Promise(() => undefined) : {};
  });
  alice.on('error', () => undefined);
  await alice.start();
  await alice.send(xml('presence'));
  closers.push(() => alice.stop());
  return state;
}

let aliceState: { silent: boolean; pings: number };

describe('the dashboard in Chromium', () => {
  it('refuses a wrong token and keeps no cookie', async () => {
    await p().goto(`${base}/dashboard`);
    await p().getByLabel('API token').fill(`${TOKEN}-wrong`);
    await p().getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => p().locator('#login-error').textContent()).toBe('Wrong token.');
    expect(await p().getByLabel('API token').getAttribute('aria-invalid')).toBe('true');
    expect(await p().locator('#app').isHidden()).toBe(true);
    expect(await context.cookies()).toEqual([]);
    expect(p().url()).not.toContain(TOKEN);
  });

  it('logs in; an MQTT and an XMPP client connect and their rows appear', async () => {
    await p().getByLabel('API token').fill(TOKEN);
    await p().getByRole('button', { name: 'Log in' }).click();
    await p().locator('#app').waitFor({ state: 'visible' });
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'vigil_session', httpOnly: true, sameSite: 'Strict' });
    expect(cookie!.value).not.toContain(TOKEN);
    expect(p().url()).not.toContain(TOKEN);

    await connectMqtt('sensor-1');
    aliceState = await connectXmpp();
    await row('mqtt:sensor-1').waitFor();
    await row(`xmpp:${ALICE}`).waitFor();
    expect(await cellOf(`xmpp:${ALICE}`, 'liveness').textContent()).toBe('active');
    expect(await cellOf('mqtt:sensor-1', 'state').textContent()).toBe('online');
    await expect.poll(() => p().locator('[data-count="online-xmpp"]').textContent()).toBe('1');
    await expect.poll(() => p().locator('[data-count="online-mqtt"]').textContent()).toBe('1');
    // The MQTT client on a keepalive host cannot be pinged: the button says why.
    expect(await row('mqtt:sensor-1').getByRole('button', { name: /^Ping/ }).isDisabled()).toBe(true);
  });

  it('fields that later issues add (via, source, CSI) get a column and a filter once a row carries them', async () => {
    const headers = async () => p().locator('thead th').allTextContents();
    expect(await headers()).not.toContain('Via');
    expect(await p().getByLabel('Via').count()).toBe(0);
    const ref = app.deps.liveness.get({ host: DOMAIN, transport: 'mqtt', id: 'sensor-1' })!.ref;
    app.deps.presence.setMeta(ref, { via: 'ws', csi_state: 'inactive' }, true);
    await expect.poll(() => cellOf('mqtt:sensor-1', 'via').textContent()).toBe('ws');
    expect(await cellOf('mqtt:sensor-1', 'csi_state').textContent()).toBe('inactive');
    // Every row has a source; the column shows once a gateway's row (issue 19) is seen.
    expect(await headers()).not.toContain('Source');
    const at = Date.now();
    app.deps.presence.ingestOnline({ key: { host: DOMAIN, transport: 'mqtt', source: 'gw-paris', id: 'sensor-1' }, connectedAt: at, at, renew: false, meta: {} });
    await expect.poll(() => cellOf('gw-paris|mqtt:sensor-1', 'source').textContent()).toBe('gw-paris');
    expect(await cellOf('mqtt:sensor-1', 'source').textContent()).toBe('local');
    expect(await cellOf(`xmpp:${ALICE}`, 'via').textContent()).toBe('–');
    expect(await headers()).toEqual(expect.arrayContaining(['Via', 'Source', 'CSI']));
    expect(await p().getByLabel('Via').locator('option').allTextContents()).toEqual(['any', 'tcp', 'tls', 'ws', 'wss']);
    expect((await p().getByLabel('Source').locator('option').allTextContents()).sort()).toEqual(['any', 'gw-paris', 'local']);
  });

  it('ping now shows a round trip (reached by keyboard: row, arrow down, Tab, Enter)', async () => {
    expect(await cellOf(`xmpp:${ALICE}`, 'rtt').textContent()).toBe('–');
    await p().locator('#rows tr[tabindex="0"]').focus();
    expect(await focused('data-key')).toBe('mqtt:sensor-1');
    await p().keyboard.press('ArrowDown');
    expect(await focused('data-key')).toBe(`xmpp:${ALICE}`);
    await p().keyboard.press('Tab');
    expect(await focused('aria-label')).toBe(`Ping xmpp ${ALICE}`);
    await p().keyboard.press('Enter');
    await expect.poll(() => p().locator('#action-status').textContent()).toMatch(new RegExp(`^Ping ${ALICE}: round trip [0-9.]+ ms \\(pong\\)\\.$`));
    expect(await cellOf(`xmpp:${ALICE}`, 'rtt').textContent()).toMatch(/^[0-9.]+ ms$/);
  });

  it('editing ping_interval changes the next probe (and a bad value is shown at its field)', async () => {
    const deadline = async () => Number(await cellOf(`xmpp:${ALICE}`, 'deadline').getAttribute('data-at')) - Date.now();
    expect(await deadline()).toBeGreaterThan(30_000);

    const field = p().getByLabel('ping_interval (s)');
    await field.fill('0');
    await p().getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => p().locator('#e-ping_interval').textContent()).toMatch(/^Invalid request: body\.ping_interval/);
    expect(await field.getAttribute('aria-invalid')).toBe('true');

    const before = aliceState.pings;
    await field.fill('1');
    await p().getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => p().locator('#config-status').textContent()).toMatch(/^Applied to localhost/);
    expect(await field.getAttribute('aria-invalid')).toBeNull();
    await expect.poll(deadline, { timeout: 4_000 }).toBeLessThan(2_000);
    await expect.poll(() => aliceState.pings, { timeout: 4_000 }).toBeGreaterThan(before);
  });

  it('a silent XMPP client turns probing, then offline with reason ping_timeout', async () => {
    await p().getByLabel('State').selectOption({ label: 'any' });
    aliceState.silent = true;
    const key = `xmpp:${ALICE}`;
    await expect.poll(() => row(key).getAttribute('data-liveness'), { timeout: 6_000, interval: 100 }).toBe('probing');
    await expect.poll(() => row(key).getAttribute('data-state'), { timeout: 8_000 }).toBe('offline');
    expect(await cellOf(key, 'reason').textContent()).toBe('ping_timeout');
    await expect.poll(() => p().locator('#disconnects li').first().textContent()).toMatch(/xmpp alice@localhost\/laptop ping_timeout$/);
    await expect.poll(() => p().locator('[data-count="online-xmpp"]').textContent()).toBe('0');
  });

  it('kick asks for confirmation and removes the row', async () => {
    await p().getByLabel('State').selectOption({ label: 'online' });
    await expect.poll(() => row(`xmpp:${ALICE}`).count()).toBe(0);
    await row('mqtt:sensor-1').getByRole('button', { name: 'Kick mqtt sensor-1' }).click();
    const dialog = p().getByRole('dialog');
    expect(await dialog.textContent()).toContain('Kick mqtt sensor-1 from localhost?');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await row('mqtt:sensor-1').count()).toBe(1);
    await row('mqtt:sensor-1').getByRole('button', { name: 'Kick mqtt sensor-1' }).click();
    await dialog.getByRole('button', { name: 'Kick' }).click();
    await expect.poll(() => p().locator('#action-status').textContent()).toBe('Kicked sensor-1.');
    await expect.poll(() => row('mqtt:sensor-1').count()).toBe(0);
  });

  it('while the tab is hidden nothing is redrawn; shown again, it catches up at once', async () => {
    const setHidden = (hidden: boolean) =>
      p().evaluate(`Object.defineProperty(document, 'hidden', { value: ${hidden}, configurable: true }); document.dispatchEvent(new Event('visibilitychange'))`);
    const online = () => p().locator('[data-count="online-mqtt"]').textContent();
    const before = await online();
    await setHidden(true);
    expect(await p().locator('#live').textContent()).toBe('paused (tab hidden)');
    await connectMqtt('while-hidden');
    await new Promise((r) => setTimeout(r, 2_500)); // longer than the page's 2 s refresh
    expect(await row('mqtt:while-hidden').count()).toBe(0);
    expect(await online()).toBe(before);
    await setHidden(false);
    await row('mqtt:while-hidden').waitFor({ timeout: 2_000 });
    expect(await online()).toBe(String(Number(before) + 1));
    expect(await p().locator('#log li', { hasText: 'online mqtt while-hidden' }).count()).toBe(1);
  });

  it('a reload resumes the live feed without losing events', async () => {
    const seqs = async () => (await p().locator('#log li').evaluateAll((lis) => lis.map((li) => Number(li.getAttribute('data-seq'))))) as number[];
    const lastBefore = (await seqs())[0]!;
    // The page goes away; meanwhile a client connects and is kicked.
    await p().goto('about:blank');
    const c = await connectMqtt('during-reload');
    const kicked = await fetch(`${base}/v1/hosts/${DOMAIN}/endpoints/mqtt/during-reload`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(kicked.status).toBe(200);
    c.end(true);
    const feed = (await (await fetch(`${base}/v1/events?after=${lastBefore}`, { headers: { authorization: `Bearer ${TOKEN}`, accept: 'application/json' } })).json()) as { entries: { seq: number; id: string }[] };
    const missed = feed.entries.filter((e) => e.id === 'during-reload').map((e) => e.seq);
    expect(missed.length).toBeGreaterThanOrEqual(2);

    // Back, with the session cookie: no login, and the log picks up right after lastBefore.
    await p().goto(`${base}/dashboard`);
    await p().locator('#app').waitFor({ state: 'visible' });
    await expect.poll(async () => (await seqs())[0], { timeout: 5_000 }).toBeGreaterThanOrEqual(Math.max(...missed));
    const all = (await seqs()).reverse();
    expect(all).toEqual(Array.from({ length: all.length }, (_, i) => all[0]! + i));
    expect(all).toEqual(expect.arrayContaining(missed));
    expect(await p().locator('#log li', { hasText: 'during-reload (kicked)' }).count()).toBe(1);

    // A plain reload keeps following.
    await p().reload();
    await p().locator('#app').waitFor({ state: 'visible' });
    await connectMqtt('after-reload');
    await row('mqtt:after-reload').waitFor();
    const after = (await seqs()).reverse();
    expect(after).toEqual(Array.from({ length: after.length }, (_, i) => after[0]! + i));
  });

  it('logs out; the cookie no longer reads the API', async () => {
    await p().getByRole('button', { name: 'Log out' }).click();
    await p().locator('#login').waitFor({ state: 'visible' });
    expect(await context.cookies()).toEqual([]);
    const res = await p().evaluate(async () => (await fetch('/v1/hosts')).status);
    expect(res).toBe(401);
    expect(pageErrors).toEqual([]);
  });
});
