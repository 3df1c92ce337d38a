/**
 * users table: SCRAM-SHA-1 and SCRAM-SHA-256 credentials per (host, user); never a password.
 * An account without a credential for one hash (imported pre-hashed, UserRecord field null) keeps
 * iterations 0 and empty blobs in that hash's columns: the columns stay NOT NULL (no migration), and
 * 0 is never a valid iteration count (RFC 5802 §5.1), so it cannot be mistaken for a credential.
 */
import type { Database } from 'better-sqlite3';
import type { ScramCredential, UserRecord, UserRepo, UserSummary } from '../types.js';

interface UserRow {
  host: string;
  user: string;
  sha1_salt: Buffer;
  sha1_iterations: number;
  sha1_stored_key: Buffer;
  sha1_server_key: Buffer;
  sha256_salt: Buffer;
  sha256_iterations: number;
  sha256_stored_key: Buffer;
  sha256_server_key: Buffer;
  created_at: number;
}

const NONE = Buffer.alloc(0);

const cred = (salt: Buffer, iterations: number, storedKey: Buffer, serverKey: Buffer): ScramCredential | null =>
  iterations === 0 ? null : { salt, iterations, storedKey, serverKey };

const columns = (c: ScramCredential | null) => c ?? { salt: NONE, iterations: 0, storedKey: NONE, serverKey: NONE };

function fromRow(r: UserRow): UserRecord {
  return {
    host: r.host,
    user: r.user,
    scramSha1: cred(r.sha1_salt, r.sha1_iterations, r.sha1_stored_key, r.sha1_server_key),
    scramSha256: cred(r.sha256_salt, r.sha256_iterations, r.sha256_stored_key, r.sha256_server_key),
    createdAt: r.created_at,
  };
}

function toRow(u: UserRecord): UserRow {
  const sha1 = columns(u.scramSha1);
  const sha256 = columns(u.scramSha256);
  return {
    host: u.host,
    user: u.user,
    sha1_salt: sha1.salt,
    sha1_iterations: sha1.iterations,
    sha1_stored_key: sha1.storedKey,
    sha1_server_key: sha1.serverKey,
    sha256_salt: sha256.salt,
    sha256_iterations: sha256.iterations,
    sha256_stored_key: sha256.storedKey,
    sha256_server_key: sha256.serverKey,
    created_at: u.createdAt,
  };
}

export function sqliteUsers(db: Database): UserRepo {
  const exists = db.prepare<[string, string], { one: 1 }>('SELECT 1 AS one FROM users WHERE host = ? AND user = ?');
  const upsert = db.prepare<UserRow>(
    `INSERT OR REPLACE INTO users VALUES (@host, @user,
       @sha1_salt, @sha1_iterations, @sha1_stored_key, @sha1_server_key,
       @sha256_salt, @sha256_iterations, @sha256_stored_key, @sha256_server_key, @created_at)`,
  );
  const insertNew = db.prepare<UserRow>(
    `INSERT OR IGNORE INTO users VALUES (@host, @user,
       @sha1_salt, @sha1_iterations, @sha1_stored_key, @sha1_server_key,
       @sha256_salt, @sha256_iterations, @sha256_stored_key, @sha256_server_key, @created_at)`,
  );
  const get = db.prepare<[string, string], UserRow>('SELECT * FROM users WHERE host = ? AND user = ?');
  const del = db.prepare<[string, string]>('DELETE FROM users WHERE host = ? AND user = ?');
  const listAll = db.prepare<[], UserSummary>('SELECT host, user, created_at AS createdAt FROM users ORDER BY host, user');
  const listHost = db.prepare<[string], UserSummary>(
    'SELECT host, user, created_at AS createdAt FROM users WHERE host = ? ORDER BY user',
  );
  const countAll = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM users');
  const countHost = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM users WHERE host = ?');

  const put = db.transaction((record: UserRecord): boolean => {
    const isNew = exists.get(record.host, record.user) === undefined;
    upsert.run(toRow(record));
    return isNew;
  });

  const createMany = db.transaction((records: readonly UserRecord[]): boolean[] => records.map((r) => insertNew.run(toRow(r)).changes > 0));

  return {
    put: (record) => put.immediate(record),
    createMany: (records) => (records.length === 0 ? [] : createMany.immediate(records)),
    get(host, user) {
      const row = get.get(host, user);
      return row && fromRow(row);
    },
    delete: (host, user) => del.run(host, user).changes > 0,
    list: (host) => (host === undefined ? listAll.all() : listHost.all(host)),
    count: (host) => (host === undefined ? countAll.get() : countHost.get(host))?.n ?? 0,
  };
}
