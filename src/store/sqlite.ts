/**
 * The embedded durable store: one SQLite file `vigil.db` in data_dir, through better-sqlite3.
 *
 * Durability: journal_mode=WAL with synchronous=NORMAL. A write returns after its transaction is
 * appended to the WAL with write(2), so it is in the OS page cache and survives the Vigil process
 * dying at any point (crash, kill -9, OOM kill): that is our requirement for anything acknowledged
 * to a client. What NORMAL gives up against FULL is the fsync per commit: an OS crash or power loss
 * may lose the last transactions (never corrupt the file). Pass `synchronous: 'FULL'` to trade
 * write latency for that too.
 *
 * Concurrency: WAL lets readers run beside the one writer, and busy_timeout makes a second
 * connection (the `vigil user` CLI while the server runs) wait for the write lock instead of
 * failing with SQLITE_BUSY. Every statement is prepared once per connection.
 *
 * The data dir is created with mode 0700 and a new vigil.db gets 0600: it holds SCRAM keys.
 */
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './sqlite/migrations.js';
import { sqliteRetained } from './sqlite/retained.js';
import { sqliteRosters } from './sqlite/rosters.js';
import { sqliteSessions } from './sqlite/sessions.js';
import { sqliteHostConfig, sqliteKv } from './sqlite/settings.js';
import { sqliteUsers } from './sqlite/users.js';
import type { Store } from './types.js';

export const SQLITE_FILE = 'vigil.db';
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

export interface SqliteStoreOptions {
  /** How long a write waits for another connection's write lock before SQLITE_BUSY (ms). */
  busyTimeoutMs?: number;
  /** NORMAL (default): durable against process crash. FULL: also against OS crash / power loss. */
  synchronous?: 'NORMAL' | 'FULL';
}

export function sqlitePath(dataDir: string): string {
  return join(dataDir, SQLITE_FILE);
}

export function openSqliteStore(dataDir: string, opts: SqliteStoreOptions = {}): Store {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = sqlitePath(dataDir);
  const isNewFile = !existsSync(file);
  const db = new Database(file, { timeout: opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
  try {
    if (isNewFile) chmodSync(file, 0o600);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${opts.synchronous ?? 'NORMAL'}`);
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return {
    kind: 'sqlite',
    users: sqliteUsers(db),
    rosters: sqliteRosters(db),
    retained: sqliteRetained(db),
    hostConfig: sqliteHostConfig(db),
    kv: sqliteKv(db),
    sessions: sqliteSessions(db),
    isOpen: () => db.open,
    close() {
      if (db.open) db.close();
    },
  };
}
