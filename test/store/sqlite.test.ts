import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { MIGRATIONS, migrate, SchemaTooNewError, schemaVersion } from '../../src/store/sqlite/migrations.js';
import { openSqliteStore, sqlitePath } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { retained, rosterItem, storeContract, userRecord } from './contract.js';
import { tempDataDir } from './temp-dir.js';

storeContract('sqlite', () => {
  const tmp = tempDataDir();
  return { store: openSqliteStore(tmp.dir), cleanup: tmp.cleanup };
});

describe('sqlite store specifics', () => {
  let tmp: ReturnType<typeof tempDataDir>;
  const open: Store[] = [];
  const openHere = (busyTimeoutMs?: number): Store => {
    const s = openSqliteStore(tmp.dir, busyTimeoutMs === undefined ? {} : { busyTimeoutMs });
    open.push(s);
    return s;
  };
  beforeEach(() => {
    tmp = tempDataDir();
  });
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
    tmp.cleanup();
  });

  it('creates data dir 0700 and vigil.db 0600, in WAL mode with synchronous=NORMAL', () => {
    openHere();
    expect(statSync(tmp.dir).mode & 0o777).toBe(0o700);
    expect(statSync(sqlitePath(tmp.dir)).mode & 0o777).toBe(0o600);
    const db = new Database(sqlitePath(tmp.dir), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('keeps everything across close and reopen', () => {
    const a = openHere();
    a.users.put(userRecord('h', 'alice'));
    a.rosters.put('h', 'alice', rosterItem('bob@h', { groups: ['g'] }));
    a.retained.put('h', retained('t', Buffer.from([0, 1, 2])));
    a.hostConfig.put('h', { ping: { ping_interval: 5 } });
    a.kv.put('k', 'v');
    a.close();
    const b = openHere();
    expect(b.users.get('h', 'alice')).toEqual(userRecord('h', 'alice'));
    expect(b.rosters.list('h', 'alice')).toEqual([rosterItem('bob@h', { groups: ['g'] })]);
    expect(b.retained.list('h')[0]?.payload.equals(Buffer.from([0, 1, 2]))).toBe(true);
    expect(b.hostConfig.all()).toEqual({ h: { ping: { ping_interval: 5 } } });
    expect(b.kv.get('k')).toBe('v');
  });

  it('a second connection (the CLI beside a running server) sees and makes writes', () => {
    const server = openHere();
    const cli = openHere();
    server.retained.put('h', retained('t', 'from server'));
    expect(cli.retained.list('h')[0]?.payload.toString()).toBe('from server');
    expect(cli.users.put(userRecord('h', 'carol'))).toBe(true);
    expect(server.users.get('h', 'carol')).toBeDefined();
    cli.close();
    expect(server.users.list('h').map((u) => u.user)).toEqual(['carol']);
  });

  it('a writer waits for another connection holding the write lock (busy_timeout)', () => {
    const server = openHere();
    const raw = new Database(sqlitePath(tmp.dir));
    raw.exec('BEGIN IMMEDIATE');
    const cli = openHere(50);
    const t0 = performance.now();
    expect(() => cli.kv.put('k', 'v')).toThrow(/locked|busy/i);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(40);
    raw.exec('COMMIT');
    raw.close();
    cli.kv.put('k', 'v');
    expect(server.kv.get('k')).toBe('v');
  });

  it('records its schema version and migrates only forward', () => {
    openHere().close();
    const db = new Database(sqlitePath(tmp.dir));
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    expect(migrate(db)).toEqual([]);
    const next = [...MIGRATIONS, { version: MIGRATIONS.length + 1, name: 'sessions', sql: 'CREATE TABLE sessions (id TEXT PRIMARY KEY)' }];
    expect(migrate(db, next)).toEqual([MIGRATIONS.length + 1]);
    expect(schemaVersion(db)).toBe(MIGRATIONS.length + 1);
    db.close();
    // This build does not know version N+1: refuse instead of guessing.
    expect(() => openSqliteStore(tmp.dir)).toThrow(SchemaTooNewError);
  });

  it('rejects a migration list with gaps', () => {
    const db = new Database(':memory:');
    expect(() => migrate(db, [{ version: 2, name: 'x', sql: '' }])).toThrow(/expected 1/);
    db.close();
  });

  it('a failing migration leaves the previous version intact', () => {
    openHere().close();
    const db = new Database(sqlitePath(tmp.dir));
    const bad = [...MIGRATIONS, { version: MIGRATIONS.length + 1, name: 'bad', sql: 'CREATE TABLE t (a); SELECT nope FROM nowhere' }];
    expect(() => migrate(db, bad)).toThrow();
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 't'").get()).toEqual({ n: 0 });
    db.close();
  });

  it('openStore picks the implementation', () => {
    const s = openStore('sqlite', tmp.dir);
    open.push(s);
    expect(s.kind).toBe('sqlite');
    expect(openStore('memory', tmp.dir).kind).toBe('memory');
  });

  it('survives kill -9 of the writing process right after its writes returned', async () => {
    const require = createRequire(import.meta.url);
    const tsx = require.resolve('tsx');
    const child = spawn(process.execPath, ['--import', tsx, fileURLToPath(new URL('./fixtures/write-then-wait.ts', import.meta.url)), tmp.dir, '200'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('written')) resolve();
      });
    });
    child.removeAllListeners('exit');
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    // The commits sit in the WAL, not yet checkpointed into the main file.
    expect(existsSync(join(tmp.dir, 'vigil.db-wal'))).toBe(true);
    const s = openHere();
    expect(s.retained.count('h')).toBe(200);
    expect(s.users.get('h', 'last')).toBeDefined();
  });
});
