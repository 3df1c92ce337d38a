/**
 * End to end: the real `vigil` process on a fresh data dir with ports 0 — serve answers /healthz,
 * `user add` works while it runs and `user list` shows the user, SIGTERM stops it with exit 0,
 * and a broken config fails fast with file, key, value and expectation.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runVigil, spawnVigil, whenStarted } from '../support/spawn-vigil.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-'));
const config = join(dir, 'vigil.yaml');
writeFileSync(
  config,
  `data_dir: ${join(dir, 'data')}
listeners:
  xmpp: { host: 127.0.0.1, port: 0 }
  mqtt: { host: 127.0.0.1, port: 0 }
  http: { host: 127.0.0.1, port: 0 }
hosts:
  localhost: {}
log: { level: info }
`,
);

const vigil = (args: string[]) => spawnVigil(args, dir);

const run = (args: string[]) => runVigil(args, dir);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('vigil command (spawned)', () => {
  it('serves /healthz, manages users while running, and stops on SIGTERM with exit 0', async () => {
    const server = vigil(['serve', '--config', config]);
    const { started, log } = whenStarted(server);
    const { port } = (await started).http;
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);

    const add = await run(['user', 'add', 'alice@localhost', '--password', 's3cret', '--config', config]);
    expect(add).toMatchObject({ code: 0 });
    const list = await run(['user', 'list', '--config', config]);
    expect(list.code).toBe(0);
    expect(list.out.trim().split('\n')).toEqual(['alice@localhost']);

    const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(log()).toContain('"vigil_stopped"');
  });

  it('refuses a broken config naming the file, the key, the value and what was expected', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'hosts:\n  localhost:\n    ping:\n      ping_interval: soon\n');
    const r = await run(['config', 'check', '--config', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`vigil: VIGIL_ERR_CONFIG_INVALID: ${bad}: hosts.localhost.ping.ping_interval: got "soon", expected an integer from 1 to 86400 (s)`);
  });

  it('prints the effective config with `config check`', async () => {
    const r = await run(['config', 'check', '--config', config]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`# ${config}: valid`);
    expect(r.out).toContain('ping_interval: 60');
  });
});
