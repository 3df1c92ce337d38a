/**
 * The durable store behind one interface. Implementations: sqlite.ts (embedded, better-sqlite3 in
 * WAL mode under data_dir, the default) and memory.ts (tests). Calls are synchronous: better-sqlite3
 * commits before returning, so whatever a method stored survives a kill -9 after it returns.
 *
 * Each repository is one concept; protocol issues add theirs here (sessions, queues, ...).
 */
import type { SessionRepo } from './session-types.js';

export type { SessionOp, SessionRepo, StoredOutboundPhase, StoredSession, StoredSessionMessage } from './session-types.js';

/** RFC 5802 credential for one SCRAM hash; never the plain password. */
export interface ScramCredential {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

export interface UserRecord {
  host: string;
  /** Localpart (XMPP) / MQTT username, already normalised. */
  user: string;
  /**
   * Null when the account has no credential for that hash: an account imported with pre-hashed
   * credentials from a server that kept only one (ejabberd's and Prosody's default is SHA-1). Every
   * account created here from a password has both.
   */
  scramSha1: ScramCredential | null;
  scramSha256: ScramCredential | null;
  createdAt: number;
}

export interface UserSummary {
  host: string;
  user: string;
  createdAt: number;
}

export interface UserRepo {
  /** Create or replace the user's credentials. Returns true when the user is new. */
  put(record: UserRecord): boolean;
  /**
   * Insert the users that do not exist yet, in one transaction; an existing user is left as it is.
   * Returns, per record, whether it was inserted (bulk import: idempotent, no lost update).
   */
  createMany(records: readonly UserRecord[]): boolean[];
  get(host: string, user: string): UserRecord | undefined;
  delete(host: string, user: string): boolean;
  /** Sorted by host, then user (UTF-8 byte order, SQLite's BINARY collation). */
  list(host?: string): UserSummary[];
  count(host?: string): number;
}

/** RFC 6121 §2.1.2.5 subscription states. */
export type Subscription = 'none' | 'to' | 'from' | 'both';

export interface RosterItem {
  /** Contact's bare JID. */
  jid: string;
  name: string | null;
  subscription: Subscription;
  /** Pending outbound subscription request (ask='subscribe', RFC 6121 §2.1.2.2). */
  askOut: boolean;
  /** Pending inbound subscription request awaiting the user's answer (RFC 6121 §3.1.3). */
  pendingIn: boolean;
  /** Pre-approved inbound subscription (RFC 6121 §3.4). */
  approved: boolean;
  groups: string[];
}

export interface RosterRepo {
  /** Items of one user (host + localpart), sorted by jid. */
  list(host: string, user: string): RosterItem[];
  get(host: string, user: string, jid: string): RosterItem | undefined;
  put(host: string, user: string, item: RosterItem): void;
  delete(host: string, user: string, jid: string): boolean;
  /** Remove a user's whole roster (user deleted). */
  clear(host: string, user: string): void;
  count(host: string, user: string): number;
}

export interface RetainedMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  /** MQTT 5 properties worth keeping (JSON-serialisable; Buffer values are kept as Buffers), or null. */
  properties: Record<string, unknown> | null;
  storedAt: number;
}

export interface RetainedRepo {
  /** Store or replace the retained message of a topic. */
  put(host: string, msg: RetainedMessage): void;
  delete(host: string, topic: string): boolean;
  /** Sorted by topic (UTF-8 byte order). */
  list(host: string): RetainedMessage[];
  count(host?: string): number;
}

/** Runtime overrides of per host settings (REST PATCH ?persist=true), applied over the file. */
export interface HostConfigRepo {
  get(host: string): Record<string, unknown> | undefined;
  put(host: string, overrides: Record<string, unknown>): void;
  /** Keyed by host, keys in host order. */
  all(): Record<string, Record<string, unknown>>;
}

/** Small named values (API token, schema versions). */
export interface KvRepo {
  get(key: string): string | undefined;
  put(key: string, value: string): void;
}

export interface Store {
  readonly kind: 'sqlite' | 'memory';
  readonly users: UserRepo;
  readonly rosters: RosterRepo;
  readonly retained: RetainedRepo;
  readonly hostConfig: HostConfigRepo;
  readonly kv: KvRepo;
  /** Persistent MQTT sessions (issue 5; contract in session-types.ts). */
  readonly sessions: SessionRepo;
  /** True until close(). */
  isOpen(): boolean;
  /** Flush and close (graceful shutdown). Idempotent. */
  close(): void;
}
