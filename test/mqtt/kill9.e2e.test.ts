/**
 * kill -9 of a spawned `vigil serve` (from source, on a SQLite data dir) while an mqtt.js client
 * publishes QoS 1 for an offline persistent subscriber: after a restart on the same data dir,
 * every message that was PUBACKed before the kill reaches the subscriber, in publish order.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, expect, it } from 'vitest';
import { spawnVigil, whenStarted } from '../support/spawn-vigil.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-kill9-mqtt-'));
const config = join(dir, 'vigil.yaml');
writeFileSync(
  config,
  `data_dir: ${join(dir, 'data')}
listeners:
  xmpp: { host: 127.0.0.1, port: 0 }
  mqtt: { host: 127.0.0.1, port: 0 }
  http: { host: 127.0.0.1, port: 0 }
hosts:
  localhost:
    mqtt: { allow_anonymous: true, max_mqueue_len: 100000, max_connection_rate_per_ip: 0 }
log: { level: info }
`,
);
const children: ChildProcess[] = [];
const clients: MqttClient[] = [];
afterAll(() => {
  for (const c of clients) c.end(true);
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function serve(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawnVigil(['serve', '--config', config], dir);
  children.push(child);
  const port = (await whenStarted(child).started).mqtt.port;
  return { child, port };
}

const connect = (port: number, opts: mqtt.IClientOptions): Promise<MqttClient> =>
  new Promise((resolve, reject) => {
    const c = mqtt.connect({ host: '127.0.0.1', port, reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    clients.push(c);
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });

it('every PUBACKed QoS 1 message survives a kill -9 of the server', async () => {
  const first = await serve();
  // What the subscriber receives, in its first connection (until its DISCONNECT is handled) or after.
  const got: number[] = [];
  const sub = await connect(first.port, { clientId: 'k9-sub', clean: false });
  sub.on('message', (_t, p) => got.push(Number(p.toString())));
  await sub.subscribeAsync('k9/t', { qos: 1 });
  await sub.endAsync();

  // Publish with up to 32 messages awaiting PUBACK; kill -9 once 1000 are acknowledged.
  const pub = await connect(first.port, { clientId: 'k9-pub' });
  pub.on('error', () => {});
  const acked: number[] = [];
  let next = 0;
  const killed = new Promise<void>((resolve) => {
    const send = () => {
      const n = next++;
      pub.publish('k9/t', String(n), { qos: 1 }, (err) => {
        if (err) return;
        acked.push(n);
        if (acked.length === 1000) {
          first.child.kill('SIGKILL');
          resolve();
        }
        if (acked.length < 1000) send();
      });
    };
    for (let i = 0; i < 32; i++) send();
  });
  await killed;
  await new Promise((r) => first.child.once('exit', r));
  pub.end(true);

  const second = await serve();
  const back = mqtt.connect({ host: '127.0.0.1', port: second.port, reconnectPeriod: 0, clientId: 'k9-sub', clean: false });
  clients.push(back);
  back.on('message', (_t, p) => got.push(Number(p.toString())));
  const ack = await new Promise<mqtt.IConnackPacket>((res) => back.once('connect', res));
  expect(ack.sessionPresent).toBe(true);
  const end = Date.now() + 20_000;
  while (got.length < acked.length && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  const have = new Set(got);
  expect(acked.filter((n) => !have.has(n))).toEqual([]);
  // Publish order kept: the subscriber sees the messages as the server received them.
  expect(got).toEqual([...got].sort((a, b) => a - b));
  second.child.kill('SIGTERM');
  await new Promise((r) => second.child.once('exit', r));
}, 60_000);
