/**
 * The watcher over TLS with credentials against Debian's mosquitto (TLS listener, password file):
 * with the broker's certificate as CA and the right password it is up; a wrong password is refused
 * in CONNACK (3.1.1 return code 5, not authorized); without the CA the certificate does not verify
 * and no CONNECT (so no password) is ever sent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { ensureSelfSigned } from '../../src/xmpp/cert.js';
import { until } from '../support/until.js';
import { type Running, startMosquitto, startVigil } from './servers.js';

let broker: Running;
let app: App;
let certDir: string;

beforeAll(async () => {
  certDir = mkdtempSync(join(tmpdir(), 'vigil-gw-tls-'));
  const tls = await ensureSelfSigned(certDir, ['localhost'], pino({ level: 'silent' }));
  broker = await startMosquitto({ certPath: tls.certPath, keyPath: tls.keyPath, user: 'vigil', password: 'watch-pw' });
  const gw = (name: string, extra: string) =>
    [`  ${name}:`, '    kind: mosquitto', `    mqtt: {url: "mqtts://localhost:${broker.port}", username: vigil, ${extra}, ping_interval: 1, ping_ack_timeout: 1, reconnect_min_ms: 200, reconnect_max_ms: 1000}`].join('\n');
  app = await startVigil(
    [gw('good', `password: watch-pw, tls: {ca_file: "${tls.certPath}"}`), gw('badpw', `password: nope, tls: {ca_file: "${tls.certPath}"}`), gw('noca', 'password: watch-pw')].join('\n'),
  );
});

afterAll(async () => {
  await app?.stop();
  await broker?.stop();
  rmSync(certDir, { recursive: true, force: true });
});

const st = (name: string) => app.gateways.get(name)!.status();

describe('watcher over TLS with credentials (mosquitto)', () => {
  it('is up with the CA and the password; refused with a wrong password; never connects without the CA', async () => {
    await until(() => st('good').state === 'up', { capMs: 5_000, everyMs: 5 });
    await until(() => st('badpw').channels.watcher?.last_lost !== null && st('noca').channels.watcher?.last_lost !== null, { capMs: 5_000, everyMs: 5 });
    expect(st('badpw').channels.watcher?.last_lost).toBe('connack_refused_5');
    expect(st('noca').channels.watcher?.last_lost).toMatch(/closed|connect_timeout/);
    expect([st('badpw').state, st('noca').state]).toEqual(['starting', 'starting']);
  });
});
