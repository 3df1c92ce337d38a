/**
 * Bulk user import (EMQX `import_users`, ejabberd `register` in a loop): takes parsed lines
 * (import-lines.ts) and reports, per line, `created`, `existing` or `invalid`, in line order.
 *
 * Idempotent: an account that exists (before, or from an earlier line of the same import) is left
 * as it is and reported `existing`, so running the same file twice creates nothing the second time.
 * New accounts are written with UserRepo.createMany (insert only if absent, one transaction a batch),
 * so a server and a CLI importing the same account at once cannot overwrite each other.
 *
 * Cost and fairness: a password costs two PBKDF2 runs (SCRAM-SHA-1 and -256, ~2 ms of CPU); they run
 * on the libuv pool one after the other, at most `jobs` accounts at a time (default: one less than
 * the CPUs, at least 1), so the importing process keeps a core for its event loop (liveness timers,
 * sockets) and leaves pool threads for logins. Lines that need no hash (existing, invalid, pre-hashed)
 * are handled in slices of YIELD_EVERY, with a turn of the event loop between slices.
 */
import { availableParallelism } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ErrorCode } from '../errors.js';
import { JidError, normaliseLocal, parseJid } from '../jid.js';
import type { UserRecord, UserRepo } from '../store/types.js';
import type { Clock } from '../time/clock.js';
import type { ParsedLine } from './import-lines.js';
import { DEFAULT_SCRAM_ITERATIONS } from './scram.js';
import { makeUserRecordAsync } from './users.js';

export type ImportStatus = 'created' | 'existing' | 'invalid';

export interface ImportResult {
  line: number;
  /** The account as normalised (`user@host`), or as written when it could not be read. */
  jid: string | null;
  status: ImportStatus;
  code?: ErrorCode;
  reason?: string;
}

export interface ImportSummary {
  created: number;
  existing: number;
  invalid: number;
}

export type Account = { host: string; user: string } | { code: ErrorCode; reason: string };

export interface ImportOptions {
  /** Where a line's account goes: host and normalised user, or why it cannot be imported. */
  resolve(jid: string): Account;
  /** Accounts hashed at once (PBKDF2 jobs on the pool). */
  jobs?: number;
  /** Each result, in line order, as soon as it and every line before it are done. */
  onResult?(result: ImportResult): void;
  /** PBKDF2 iterations for password lines (tests lower it). */
  iterations?: number;
  /** A limiter shared with other user creation (the REST app's); each PBKDF2 run goes through it. */
  limit?: <T>(job: () => Promise<T>) => Promise<T>;
}

const BATCH = 64;
const YIELD_EVERY = 128;

export function defaultImportJobs(): number {
  return Math.max(1, availableParallelism() - 1);
}

/**
 * The account of an import line: `user@host` (a bare JID; `host` checked by `hostProblem`) or, when
 * `defaultHost` is given (the REST route's host), a bare user name.
 */
export function resolveAccount(jid: string, hostProblem: (host: string) => string | null, defaultHost?: string): Account {
  try {
    if (defaultHost !== undefined && !jid.includes('@') && !jid.includes('/')) return { host: defaultHost, user: normaliseLocal(jid) };
    const parsed = parseJid(jid);
    if (parsed.local === null) return { code: 'VIGIL_ERR_BAD_JID', reason: 'no user part (expected user@host)' };
    if (parsed.resource !== null) return { code: 'VIGIL_ERR_BAD_JID', reason: 'has a resource; give the bare JID user@host' };
    const problem = hostProblem(parsed.domain);
    if (problem) return { code: 'VIGIL_ERR_UNKNOWN_HOST', reason: problem };
    return { host: parsed.domain, user: parsed.local };
  } catch (err) {
    if (err instanceof JidError) return { code: 'VIGIL_ERR_BAD_JID', reason: err.reason };
    throw err;
  }
}

interface Ready {
  seq: number;
  line: number;
  jid: string;
  record: UserRecord;
}

export async function importUsers(
  lines: Iterable<ParsedLine> | AsyncIterable<ParsedLine>,
  deps: { users: Pick<UserRepo, 'get' | 'createMany'>; clock: Pick<Clock, 'now'> },
  opts: ImportOptions,
): Promise<ImportSummary> {
  const jobs = Math.max(1, opts.jobs ?? defaultImportJobs());
  const iterations = opts.iterations ?? DEFAULT_SCRAM_ITERATIONS;
  const summary: ImportSummary = { created: 0, existing: 0, invalid: 0 };
  const done = new Map<number, ImportResult>(); // finished out of order, waiting for earlier lines
  const seen = new Set<string>(); // accounts this import has taken (in flight or written)
  let nextOut = 0;
  let pending: Ready[] = [];
  let inFlight = 0;
  let failure: unknown = null;
  let wake: (() => void) | null = null;

  const finish = (seq: number, r: ImportResult) => {
    summary[r.status]++;
    done.set(seq, r);
    for (let out = done.get(nextOut); out; out = done.get(nextOut)) {
      done.delete(nextOut++);
      opts.onResult?.(out);
    }
  };
  const flush = () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    const created = deps.users.createMany(batch.map((b) => b.record));
    batch.forEach((b, i) => finish(b.seq, { line: b.line, jid: b.jid, status: created[i] ? 'created' : 'existing' }));
  };
  const ready = (r: Ready) => {
    pending.push(r);
    if (pending.length >= BATCH) flush();
  };
  const hash = async (base: Omit<Ready, 'record'>, host: string, user: string, password: string) => {
    try {
      // One after the other: `jobs` counts pool threads, not accounts x 2.
      const record = await makeUserRecordAsync(host, user, password, deps.clock, { iterations, ...(opts.limit ? { limit: opts.limit } : {}) });
      ready({ ...base, record });
      flush();
    } catch (err) {
      failure ??= err;
    } finally {
      inFlight--;
      wake?.();
    }
  };
  const below = async (n: number) => {
    while (inFlight >= n && failure === null) await new Promise<void>((resolve) => (wake = resolve));
    wake = null;
  };

  /** Decide a line now, or start its hash (null). */
  const take = (p: ParsedLine, seq: number): ImportResult | null => {
    if (!p.ok) return { line: p.line, jid: p.jid, status: 'invalid', code: p.code, reason: p.reason };
    const account = opts.resolve(p.jid);
    if ('code' in account) return { line: p.line, jid: p.jid, status: 'invalid', code: account.code, reason: account.reason };
    const { host, user } = account;
    const jid = `${user}@${host}`;
    const key = `${host}\u0000${user}`;
    if (seen.has(key) || deps.users.get(host, user)) return { line: p.line, jid, status: 'existing' };
    seen.add(key);
    const base = { seq, line: p.line, jid };
    if (p.creds.kind === 'scram') {
      ready({ ...base, record: { host, user, scramSha1: p.creds.sha1, scramSha256: p.creds.sha256, createdAt: deps.clock.now() } });
    } else {
      inFlight++;
      void hash(base, host, user, p.creds.password);
    }
    return null;
  };

  let seq = 0;
  let sinceYield = 0;
  for await (const p of lines) {
    if (failure !== null) break;
    const s = seq++;
    const result = take(p, s);
    if (result) finish(s, result);
    if (inFlight >= jobs) {
      flush();
      sinceYield = 0;
      await below(jobs);
    } else if (++sinceYield >= YIELD_EVERY) {
      sinceYield = 0;
      flush();
      await nextTurn();
    }
  }
  flush();
  await below(1);
  flush();
  if (failure !== null) throw failure;
  return summary;
}
