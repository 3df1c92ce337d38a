/** Creating user records and checking plain passwords against them (SASL PLAIN, MQTT CONNECT). */
import type { Clock } from '../time/clock.js';
import type { ScramCredential, Store, UserRecord } from '../store/types.js';
import { DEFAULT_SCRAM_ITERATIONS, type ScramHash, deriveCredential, deriveCredentialAsync, verifyPassword } from './scram.js';

/** A record made here from a password: it has both credentials. */
export type FullUserRecord = UserRecord & { scramSha1: ScramCredential; scramSha256: ScramCredential };

/** Both credentials on the calling thread (about 2 ms of CPU): the CLI, tests. A server path uses makeUserRecordAsync. */
export function makeUserRecord(
  host: string,
  user: string,
  password: string,
  clock: Pick<Clock, 'now'>,
  iterations = DEFAULT_SCRAM_ITERATIONS,
): FullUserRecord {
  return {
    host,
    user,
    scramSha1: deriveCredential('sha1', password, iterations),
    scramSha256: deriveCredential('sha256', password, iterations),
    createdAt: clock.now(),
  };
}

/**
 * makeUserRecord with both PBKDF2 runs on the libuv pool: the event loop (liveness timers, every
 * socket) stays free while a user is created. `limit` bounds how many run at once (JobLimiter.run).
 */
export async function makeUserRecordAsync(
  host: string,
  user: string,
  password: string,
  clock: Pick<Clock, 'now'>,
  opts: { iterations?: number; limit?: <T>(job: () => Promise<T>) => Promise<T> } = {},
): Promise<FullUserRecord> {
  const iterations = opts.iterations ?? DEFAULT_SCRAM_ITERATIONS;
  const limit = opts.limit ?? ((job) => job());
  const scramSha1 = await limit(() => deriveCredentialAsync('sha1', password, iterations));
  const scramSha256 = await limit(() => deriveCredentialAsync('sha256', password, iterations));
  return { host, user, scramSha1, scramSha256, createdAt: clock.now() };
}

/**
 * The credential a plain password is checked against: SCRAM-SHA-256 when the account has it, else
 * SCRAM-SHA-1 (accounts imported pre-hashed from a SHA-1-only server). Unknown users, and an account
 * with neither, get the dummy credential: the same work, and the check fails.
 */
export function passwordCredential(rec: UserRecord | undefined): { hash: ScramHash; cred: ScramCredential; known: boolean } {
  if (rec?.scramSha256) return { hash: 'sha256', cred: rec.scramSha256, known: true };
  if (rec?.scramSha1) return { hash: 'sha1', cred: rec.scramSha1, known: true };
  return { hash: 'sha256', cred: dummy(), known: false };
}

/** True when the user exists and the password matches its credential (passwordCredential). */
export function checkPassword(store: Store, host: string, user: string, password: string): boolean {
  // Unknown users spend comparable work, so timing does not reveal which users exist.
  const { hash, cred, known } = passwordCredential(store.users.get(host, user));
  return verifyPassword(hash, cred, password) && known;
}

// Derived on first use, not at import: importing this module costs no PBKDF2 run.
let dummyCred: ScramCredential | undefined;
/** A fixed SCRAM-SHA-256 credential to check unknown users against (same work, no user-existence oracle). */
export function dummy(): ScramCredential {
  dummyCred ??= deriveCredential('sha256', 'vigil-dummy', DEFAULT_SCRAM_ITERATIONS, Buffer.alloc(16, 7));
  return dummyCred;
}
