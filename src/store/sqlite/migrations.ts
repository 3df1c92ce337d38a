/**
 * Forward-only schema migrations for the embedded store.
 *
 * Each migration is one entry: a version (1, 2, 3... with no gaps), a name and its SQL. Adding a
 * table (the persistent MQTT session and queue tables come next) is appending one entry; applied
 * entries are never edited. The SQL lives in TypeScript rather than .sql files so `tsc` ships it
 * in dist/ with nothing to copy.
 *
 * `migrate` runs under BEGIN IMMEDIATE: when a server and the CLI open a fresh data dir at the same
 * time, one takes the write lock and migrates, the other waits (busy_timeout) and then finds the
 * schema current. A database written by a newer Vigil (a version we do not know) is refused
 * rather than used with a schema we cannot read.
 */
import type { Database } from 'better-sqlite3';
import { SESSIONS_MIGRATION } from './sessions.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'users, rosters, retained, host_config, kv',
    sql: `
      CREATE TABLE users (
        host TEXT NOT NULL,
        user TEXT NOT NULL,
        sha1_salt BLOB NOT NULL,
        sha1_iterations INTEGER NOT NULL,
        sha1_stored_key BLOB NOT NULL,
        sha1_server_key BLOB NOT NULL,
        sha256_salt BLOB NOT NULL,
        sha256_iterations INTEGER NOT NULL,
        sha256_stored_key BLOB NOT NULL,
        sha256_server_key BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (host, user)
      ) WITHOUT ROWID;

      CREATE TABLE roster_items (
        host TEXT NOT NULL,
        user TEXT NOT NULL,
        jid TEXT NOT NULL,
        name TEXT,
        subscription TEXT NOT NULL CHECK (subscription IN ('none', 'to', 'from', 'both')),
        ask_out INTEGER NOT NULL,
        pending_in INTEGER NOT NULL,
        approved INTEGER NOT NULL,
        groups_json TEXT NOT NULL,
        PRIMARY KEY (host, user, jid)
      ) WITHOUT ROWID;

      CREATE TABLE retained (
        host TEXT NOT NULL,
        topic TEXT NOT NULL,
        payload BLOB NOT NULL,
        qos INTEGER NOT NULL CHECK (qos IN (0, 1, 2)),
        properties_json TEXT,
        stored_at INTEGER NOT NULL,
        PRIMARY KEY (host, topic)
      ) WITHOUT ROWID;

      CREATE TABLE host_config (
        host TEXT PRIMARY KEY NOT NULL,
        overrides_json TEXT NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE kv (
        key TEXT PRIMARY KEY NOT NULL,
        value TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  { version: 2, ...SESSIONS_MIGRATION },
];

export class SchemaTooNewError extends Error {
  constructor(
    readonly found: number,
    readonly known: number,
  ) {
    super(`the database has schema version ${found}, this Vigil knows up to ${known}; upgrade Vigil or use another data_dir`);
    this.name = 'SchemaTooNewError';
  }
}

/** Current schema version of an open database (0 = empty). */
export function schemaVersion(db: Database): number {
  const table = db
    .prepare<[], { n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'")
    .get();
  if (!table?.n) return 0;
  const row = db.prepare<[], { v: number | null }>('SELECT max(version) AS v FROM schema_version').get();
  return row?.v ?? 0;
}

/**
 * Apply every migration above the current version; returns the versions applied. A current
 * schema is checked with reads only, so opening the store never waits for another writer.
 */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS, now: () => number = Date.now): number[] {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.name}: version ${m.version}, expected ${i + 1}`);
  });
  const known = migrations.length;
  const check = (): number => {
    const current = schemaVersion(db);
    if (current > known) throw new SchemaTooNewError(current, known);
    return current;
  };
  if (check() === known) return [];
  const run = db.transaction((): number[] => {
    db.exec(
      'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
    );
    const current = check(); // again under the write lock: another process may have migrated
    const insert = db.prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)');
    const applied: number[] = [];
    for (const m of migrations.slice(current)) {
      db.exec(m.sql);
      insert.run(m.version, m.name, now());
      applied.push(m.version);
    }
    return applied;
  });
  return run.immediate();
}
