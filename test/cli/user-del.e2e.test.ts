/**
 * `vigil user del` while `vigil serve` runs on the same data_dir (issue 20): the CLI finds the
 * server through data_dir/server.json and deletes through its REST API, so the account's MQTT
 * session ends at once (mqtt.js, MQTT 5 DISCONNECT 0x87) and the feed says account_deleted.
 * Without a running server the CLI deletes in the store (test/cli/user.test.ts).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { makeUserRecord } from '../../src/auth/users.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { systemClock } from '../../src/time/clock.js';
import { runVigil, spawnVigil, whenStarted } from '../support/spawn-vigil.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-del-e2e-'));
const dataDir = join(dir, 'data');
const config = join(dir, 'vigil.yaml');
writeFileSync(
  config,
  `data_dir: ${dataDir}
listeners:
  xmpp: { host: 127.0.0.1, port: 0 }
  mqtt: { host: 127.0.0.1, port: 0 }
  http: { host: 127.0.0.1, port: 0 }
hosts:
  localhost: { xmpp: { tls: 'off' } }
`,
);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('vigil user del with a running server', () => {
  it('ends the deleted account\'s MQTT session (0x87, account_deleted) and removes server.json on stop', async () => {
    const server = spawnVigil(['serve', '--config', config], dir);
    const { started } = whenStarted(server);
    const addresses = await started;
    try {
      expect(JSON.parse(readFileSync(join(dataDir, 'server.json'), 'utf8'))).toMatchObject({ pid: server.pid, http: { port: addresses.http.port } });
      const store = openSqliteStore(dataDir); // what `vigil user add` does, without another spawn
      store.users.put(makeUserRecord('localhost', 'alice', 's3cret', systemClock));
      store.close();
      const device = await new Promise<mqtt.MqttClient>((resolve, reject) => {
        const c = mqtt.connect({ host: '127.0.0.1', port: addresses.mqtt.port, clientId: 'alice-phone', username: 'alice', password: 's3cret', protocolVersion: 5, reconnectPeriod: 0 });
        c.once('connect', () => resolve(c));
        c.once('error', reject);
      });
      const reason = new Promise<number | undefined>((resolve) => device.once('disconnect', (pkt) => resolve(pkt.reasonCode)));

      const del = await runVigil(['user', 'del', 'alice@localhost', '--config', config], dir);
      expect(del.code).toBe(0);
      expect(del.out).toContain(`deleted alice@localhost (by the running server, pid ${server.pid}`);
      expect(await reason).toBe(0x87);

      const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
      const res = await fetch(`http://127.0.0.1:${addresses.http.port}/v1/events?after=0&limit=100`, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
      const entries = ((await res.json()) as { entries: { kind: string; id: string; reason?: string }[] }).entries;
      expect(entries.filter((e) => e.kind === 'offline')).toEqual([expect.objectContaining({ id: 'alice-phone', reason: 'account_deleted' })]);
      device.end(true);
      const after = openSqliteStore(dataDir);
      expect(after.users.get('localhost', 'alice')).toBeUndefined();
      after.close();
    } finally {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    expect(existsSync(join(dataDir, 'server.json'))).toBe(false);
  });
});
