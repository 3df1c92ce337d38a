/** How CLI commands find the server running on their data_dir (src/cli/server-link.ts). */
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeUserRecord } from '../../src/auth/users.js';
import { removeServerFile, restBase, runningServer, writeServerFile } from '../../src/cli/server-link.js';
import { userCommand } from '../../src/cli/user.js';
import { parseConfig } from '../../src/config/load.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { tempDataDir } from '../store/temp-dir.js';

let tmp: ReturnType<typeof tempDataDir>;
beforeEach(() => {
  tmp = tempDataDir('vigil-link-');
  openSqliteStore(tmp.dir).close(); // creates data_dir
});
afterEach(() => tmp.cleanup());

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

describe('server.json', () => {
  it('names a live server; a missing file, a dead pid or our own pid name none', () => {
    expect(runningServer(tmp.dir)).toBeNull();
    writeServerFile(tmp.dir, { pid: process.ppid, http: { host: '0.0.0.0', port: 8080 }, startedAt: 1 });
    expect(runningServer(tmp.dir)).toEqual({ pid: process.ppid, http: { host: '0.0.0.0', port: 8080 }, startedAt: 1 });
    writeServerFile(tmp.dir, { pid: process.pid, http: null, startedAt: 1 });
    expect(runningServer(tmp.dir)).toBeNull();
    writeServerFile(tmp.dir, { pid: 2 ** 22 + 12_345, http: null, startedAt: 1 }); // above pid_max: never alive
    expect(runningServer(tmp.dir)).toBeNull();
    removeServerFile(tmp.dir, 1); // not ours: kept
    expect(runningServer(tmp.dir)).toBeNull();
  });

  it('reaches a wildcard bind on loopback', () => {
    expect(restBase({ host: '0.0.0.0', port: 1 })).toBe('http://127.0.0.1:1');
    expect(restBase({ host: '::', port: 2 })).toBe('http://[::1]:2');
    expect(restBase({ host: '10.0.0.5', port: 3 })).toBe('http://10.0.0.5:3');
  });

  it('user del: a live pid with nothing listening at its address (a reused pid) -> deleted in the store, with a warning', async () => {
    const store = openSqliteStore(tmp.dir);
    store.users.put(makeUserRecord('localhost', 'alice', 'pw', { now: () => 0 }, 64));
    store.close();
    writeServerFile(tmp.dir, { pid: process.ppid, http: { host: '127.0.0.1', port: await closedPort() }, startedAt: 1 });
    const out: string[] = [];
    const err: string[] = [];
    const loaded = parseConfig(`data_dir: ${JSON.stringify(tmp.dir)}\napi: { token: t0k3n-for-the-test }\nhosts:\n  localhost: {}\n`, join(tmp.dir, 'v.yaml'));
    const code = await userCommand(['del', 'alice@localhost'], { loaded, out: (l) => out.push(l), err: (l) => err.push(l) });
    expect({ code, out }).toEqual({ code: 0, out: ['deleted alice@localhost'] });
    expect(err.join('\n')).toMatch(/server\.json names pid \d+ but nothing answers at http:\/\/127\.0\.0\.1:\d+; deleting in the store only/);
    const after = openSqliteStore(tmp.dir);
    expect(after.users.get('localhost', 'alice')).toBeUndefined();
    after.close();
  });
});
