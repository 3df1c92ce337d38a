/** host_config (runtime per host overrides, JSON) and kv (small named strings) tables. */
import type { Database } from 'better-sqlite3';
import { decodeJson, encodeJson } from '../json.js';
import type { HostConfigRepo, KvRepo } from '../types.js';

type Overrides = Record<string, unknown>;

export function sqliteHostConfig(db: Database): HostConfigRepo {
  const get = db.prepare<[string], { overrides_json: string }>('SELECT overrides_json FROM host_config WHERE host = ?');
  const put = db.prepare<[string, string]>('INSERT OR REPLACE INTO host_config (host, overrides_json) VALUES (?, ?)');
  const all = db.prepare<[], { host: string; overrides_json: string }>('SELECT * FROM host_config ORDER BY host');
  return {
    get(host) {
      const row = get.get(host);
      return row && decodeJson<Overrides>(row.overrides_json);
    },
    put(host, overrides) {
      put.run(host, encodeJson(overrides));
    },
    all: () => Object.fromEntries(all.all().map((r) => [r.host, decodeJson<Overrides>(r.overrides_json)])),
  };
}

export function sqliteKv(db: Database): KvRepo {
  const get = db.prepare<[string], { value: string }>('SELECT value FROM kv WHERE key = ?');
  const put = db.prepare<[string, string]>('INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)');
  return {
    get: (key) => get.get(key)?.value,
    put(key, value) {
      put.run(key, value);
    },
  };
}
