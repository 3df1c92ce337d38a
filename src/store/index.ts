/** Opening the configured store: the embedded SQLite store (default) or the in-memory one (tests). */
import { createMemoryStore } from './memory.js';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite.js';
import type { Store } from './types.js';

export type StoreKind = 'sqlite' | 'memory';

export function openStore(kind: StoreKind, dataDir: string, opts: SqliteStoreOptions = {}): Store {
  return kind === 'sqlite' ? openSqliteStore(dataDir, opts) : createMemoryStore();
}

export type { Store } from './types.js';
