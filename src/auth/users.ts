/** Creating user records and checking plain passwords against them (SASL PLAIN, MQTT CONNECT). */
import type { Clock } from '../time/clock.js';
import type { ScramCredential, Store, UserRecord } from '../store/types.js';
import { DEFAULT_SCRAM_ITERATIONS, deriveCredential, verifyPassword } from './scram.js';

export function makeUserRecord(
  host: string,
  user: string,
  password: string,
  clock: Pick<Clock, 'now'>,
  iterations = DEFAULT_SCRAM_ITERATIONS,
): UserRecord {
  return {
    host,
    user,
    scramSha1: deriveCredential('sha1', password, iterations),
    scramSha256: deriveCredential('sha256', password, iterations),
    createdAt: clock.now(),
  };
}

/** True when the user exists and the password matches its SCRAM-SHA-256 credential. */
export function checkPassword(store: Store, host: string, user: string, password: string): boolean {
  const rec = store.users.get(host, user);
  if (!rec) {
    // Spend comparable work for unknown users so timing does not reveal which users exist.
    verifyPassword('sha256', dummy(), password);
    return false;
  }
  return verifyPassword('sha256', rec.scramSha256, password);
}

// Derived on first use, not at import: importing this module costs no PBKDF2 run.
let dummyCred: ScramCredential | undefined;
/** A fixed SCRAM-SHA-256 credential to check unknown users against (same work, no user-existence oracle). */
export function dummy(): ScramCredential {
  dummyCred ??= deriveCredential('sha256', 'vigil-dummy', DEFAULT_SCRAM_ITERATIONS, Buffer.alloc(16, 7));
  return dummyCred;
}
