/**
 * End to end against Debian's ejabberd (started once for the file: it takes seconds) polled
 * through mod_http_api's connected_users_info with HTTP Basic credentials of an admin account.
 * An @xmpp/client user (a client nobody here wrote) logs in, changes presence, is kicked through
 * REST (ejabberd kick_session), logs in and out; the row follows. Killed, ejabberd's rows go
 * offline with gateway_down after gateway_timeout.
 */
import { client, xml } from '@xmpp/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { PresenceView } from '../../src/presence/types.js';
import { until } from '../support/until.js';
import { type RunningEjabberd, startEjabberd, startVigil } from './servers.js';

let ej: RunningEjabberd;
let app: App;
const AUTH = { authorization: 'Bearer test-token-0123456789' };
const open: { stop(): Promise<unknown> }[] = [];

beforeAll(async () => {
  ej = await startEjabberd();
  await ej.bootstrap('register', { user: 'vigil', host: ej.domain, password: 'api-pass' });
  await ej.bootstrap('register', { user: 'alice', host: ej.domain, password: 'alice-pass' });
  app = await startVigil(
    [
      '  ej1:',
      '    kind: ejabberd',
      '    poll_interval: 1',
      '    gateway_timeout: 2',
      `    api: {url: "http://127.0.0.1:${ej.httpPort}/api", username: "vigil@${ej.domain}", password: api-pass}`,
    ].join('\n'),
  );
}, 90_000);

afterAll(async () => {
  for (const c of open) await c.stop().catch(() => undefined);
  await app?.stop();
  await ej?.stop();
});

const JID = (res: string) => `alice@localhost/${res}`;
const row = (res: string): PresenceView | undefined => app.deps.presence.get({ host: 'localhost', transport: 'xmpp', id: JID(res), source: 'ej1' });
const gw = () => app.gateways.get('ej1')!.status();

async function login(resource: string) {
  const c = client({ service: `xmpp://127.0.0.1:${ej.port}`, domain: ej.domain, username: 'alice', password: 'alice-pass', resource });
  c.on('error', () => undefined);
  c.reconnect.stop();
  await c.start();
  open.push(c);
  return c;
}

describe('ejabberd gateway (mod_http_api connected_users_info, polled)', () => {
  it('shows a logged-in resource with its presence, and takes availability changes from the next poll', async () => {
    await until(() => gw().state === 'up', { capMs: 10_000, everyMs: 5 });
    const c = await login('phone');
    await c.send(xml('presence', {}, xml('show', {}, 'away'), xml('status', {}, 'lunch')));
    await until(() => row('phone')?.show === 'away', { capMs: 5_000, everyMs: 5 });
    expect(row('phone')).toMatchObject({ source: 'ej1', state: 'online', available: true, status: 'lunch', priority: 0, meta: { connection: 'c2s' } });
    await c.send(xml('presence', {}, xml('show', {}, 'dnd')));
    await until(() => row('phone')?.show === 'dnd', { capMs: 5_000, everyMs: 5 });
  });

  it('kicks through kick_session on REST DELETE ?source=, and the row goes offline with reason kicked', async () => {
    const res = await app.http.inject({ method: 'DELETE', url: `/v1/hosts/localhost/endpoints/xmpp/${encodeURIComponent(JID('phone'))}?source=ej1`, headers: AUTH });
    expect([res.statusCode, res.json().kicked?.[0]?.source]).toEqual([200, 'ej1']);
    expect(row('phone')).toMatchObject({ state: 'offline', last_disconnect_reason: 'kicked' });
    const ping = await app.http.inject({ method: 'POST', url: `/v1/hosts/localhost/endpoints/xmpp/${encodeURIComponent(JID('phone'))}/ping?source=ej1`, headers: AUTH });
    expect(ping.statusCode).toBe(404); // offline now: nothing to ping
  });

  it('follows a log-in and log-out between polls', async () => {
    const c = await login('laptop');
    await until(() => row('laptop')?.state === 'online', { capMs: 5_000, everyMs: 5 });
    const ping = await app.http.inject({ method: 'POST', url: `/v1/hosts/localhost/endpoints/xmpp/${encodeURIComponent(JID('laptop'))}/ping`, headers: AUTH });
    expect([ping.statusCode, ping.json().code]).toEqual([409, 'VIGIL_ERR_GATEWAY_ACTION_UNSUPPORTED']);
    await c.stop();
    await until(() => row('laptop')?.state === 'offline', { capMs: 5_000, everyMs: 5 });
    expect(row('laptop')).toMatchObject({ last_disconnect_reason: 'gateway_offline', meta: { gateway_reason: 'not_listed' } });
  });

  it("takes ejabberd's rows offline with gateway_down when it dies", async () => {
    await login('tablet');
    await until(() => row('tablet')?.state === 'online', { capMs: 5_000, everyMs: 5 });
    ej.signal('SIGKILL');
    await until(() => gw().state === 'unreachable', { capMs: 5_000, everyMs: 5 });
    await until(() => row('tablet')?.state === 'offline', { capMs: 5_000, everyMs: 5 });
    expect(row('tablet')?.last_disconnect_reason).toBe('gateway_down');
    expect(gw().channels.api?.last_error).toMatch(/request failed/);
  });
});
