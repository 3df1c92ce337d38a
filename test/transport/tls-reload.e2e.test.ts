/**
 * SIGHUP certificate reload (issue 14) on a spawned `vigil serve`: the mqtts listener's
 * certificate and key files are replaced, a real SIGHUP makes new handshakes see the new
 * certificate while a client connected before keeps its connection; a pair that does not belong
 * together is refused (logged tls_reload_failed, counted) and the working certificate stays.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Pki, makePki } from '../support/pki.js';
import { spawnVigil, whenStarted } from '../support/spawn-vigil.js';
import { until } from '../support/until.js';

let pki: Pki;
let dir: string;
let child: ReturnType<typeof spawnVigil> | null = null;
const clients: MqttClient[] = [];

beforeAll(async () => {
  pki = await makePki({});
  dir = mkdtempSync(join(tmpdir(), 'vigil-reload-'));
});
afterAll(() => {
  for (const c of clients) c.end(true);
  child?.kill('SIGKILL');
  pki.remove();
  rmSync(dir, { recursive: true, force: true });
});

function connect(port: number, ca: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(`mqtts://127.0.0.1:${port}`, { ca: readFileSync(ca), reconnectPeriod: 0, connectTimeout: 4000, clientId: `c${clients.length}` });
    clients.push(c);
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

it('SIGHUP swaps the certificate for new handshakes, keeps open connections, and keeps the old pair when the new one is broken', async () => {
  const cert = join(dir, 'server.crt');
  const key = join(dir, 'server.key');
  copyFileSync(pki.serverCert, cert);
  copyFileSync(pki.serverKey, key);
  const config = join(dir, 'vigil.yaml');
  writeFileSync(
    config,
    [
      `data_dir: ${dir}`,
      'listeners:',
      '  xmpp: {host: 127.0.0.1, port: 0}',
      '  mqtt: {host: 127.0.0.1, port: 0}',
      '  http: {host: 127.0.0.1, port: 0}',
      `  mqtts: {host: 127.0.0.1, port: 0, tls: {certfile: ${cert}, keyfile: ${key}}}`,
      'hosts: {example.org: {mqtt: {allow_anonymous: true}}}',
      'log: {level: info}',
    ].join('\n'),
  );
  child = spawnVigil(['serve', '--config', config], dir);
  const { started, log } = whenStarted(child);
  const addresses: Record<string, { port: number } | undefined> = await started;
  const port = addresses['mqtts']!.port;

  const before = await connect(port, pki.ca);
  const other = await pki.otherServer('next');
  copyFileSync(other.cert, cert);
  copyFileSync(other.key, key);
  child.kill('SIGHUP');
  await until(() => log().includes('"tls_reloaded"') && log().includes('"listener":"mqtts"'));
  await expect(connect(port, pki.ca)).rejects.toThrow(); // the old CA no longer verifies the server
  await connect(port, other.ca);
  // The connection made before the reload is still served.
  await before.subscribeAsync('still/here', { qos: 1 });
  const got = new Promise<string>((resolve) => before.once('message', (_t, p) => resolve(p.toString())));
  await before.publishAsync('still/here', 'yes', { qos: 1 });
  expect(await got).toBe('yes');

  // A key that does not match the certificate: refused, counted, the working pair stays.
  copyFileSync(pki.serverKey, key);
  child.kill('SIGHUP');
  await until(() => log().includes('"tls_reload_failed"'));
  expect(log()).not.toMatch(/BEGIN (EC |RSA )?PRIVATE KEY/);
  await connect(port, other.ca);
  const http = addresses['http']!.port;
  const metrics = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
  expect(metrics).toMatch(/vigil_tls_reloads_total\{listener="mqtts",result="failed"\} [1-9]/);
  expect(metrics).toMatch(/vigil_tls_reloads_total\{listener="mqtts",result="ok"\} 1/);
  child.kill('SIGTERM');
  await new Promise((resolve) => child!.once('exit', resolve));
  child = null;
});
