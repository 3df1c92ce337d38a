/**
 * Password checks for CONNECT with a cache of recent successes. A stored credential is SCRAM
 * (PBKDF2, 4096 iterations by default: milliseconds of CPU), which would make every reconnect of
 * a device fleet cost that much. After one successful check we keep a keyed HMAC of the password
 * (key random per process, never the password) together with the credential it matched; a later
 * CONNECT with the same password against the same, unchanged credential is accepted after one
 * HMAC. A changed or deleted user misses the cache (the credential is compared each time), and a
 * wrong password always pays the full check, so guessing gets no faster. Bounded: oldest first out.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { checkPassword } from '../auth/users.js';
import type { Store } from '../store/types.js';

interface Entry {
  storedKey: Buffer;
  digest: Buffer;
}

export class PasswordChecker {
  private readonly key = randomBytes(32);
  private readonly ok = new Map<string, Entry>();

  constructor(
    private readonly store: Store,
    private readonly max = 10_000,
  ) {}

  check(host: string, user: string, password: Buffer): boolean {
    const k = `${host}\u0000${user}`;
    const digest = createHmac('sha256', this.key).update(password).digest();
    const rec = this.store.users.get(host, user);
    const hit = this.ok.get(k);
    if (rec && hit && hit.storedKey.equals(rec.scramSha256.storedKey) && timingSafeEqual(hit.digest, digest)) return true;
    if (!checkPassword(this.store, host, user, password.toString('utf8'))) return false;
    if (!rec) return true;
    this.ok.delete(k);
    if (this.ok.size >= this.max) this.ok.delete(this.ok.keys().next().value!);
    this.ok.set(k, { storedKey: rec.scramSha256.storedKey, digest });
    return true;
  }
}
