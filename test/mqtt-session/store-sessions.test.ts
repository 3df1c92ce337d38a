import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/store/memory.js';
import { MIGRATIONS, migrate, schemaVersion } from '../../src/store/sqlite/migrations.js';
import { openSqliteStore, sqlitePath } from '../../src/store/sqlite.js';
import { tempDataDir } from '../store/temp-dir.js';
import { sessionRepoContract, stored } from './session-repo.contract.js';

sessionRepoContract('Store.sessions (sqlite)', () => {
  const tmp = tempDataDir();
  const store = openSqliteStore(tmp.dir);
  return {
    repo: store.sessions,
    cleanup: () => {
      store.close();
      tmp.cleanup();
    },
  };
});

sessionRepoContract('Store.sessions (memory)', () => ({ repo: createMemoryStore().sessions, cleanup: () => {} }));

const tmp = tempDataDir();
afterEach(() => tmp.cleanup());

it('migrates a version 1 database to the session tables and keeps sessions across reopen', () => {
  const first = openSqliteStore(tmp.dir);
  first.close();
  const db = new Database(sqlitePath(tmp.dir));
  db.exec('DROP TABLE mqtt_sessions; DROP TABLE mqtt_subscriptions; DROP TABLE mqtt_inflight; DROP TABLE mqtt_queue; DROP TABLE mqtt_awaiting_rel');
  db.exec('DELETE FROM schema_version WHERE version >= 2');
  expect(schemaVersion(db)).toBe(1);
  expect(migrate(db)).toContain(2);
  expect(schemaVersion(db)).toBe(MIGRATIONS.length);
  db.close();
  const store = openSqliteStore(tmp.dir);
  store.sessions.apply([
    { op: 'session_put', host: 'h', clientId: 'c', expiryMs: 1000, expiresAt: null },
    { op: 'queue_put', host: 'h', clientId: 'c', seq: 1, msg: stored('t') },
  ]);
  store.close();
  const again = openSqliteStore(tmp.dir);
  expect(again.sessions.get('h', 'c')?.queue.map((q) => q.msg.topic)).toEqual(['t']);
  again.close();
});
