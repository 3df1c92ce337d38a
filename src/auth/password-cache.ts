/**
 * Plain password checks (MQTT CONNECT, SASL PLAIN RFC 4616) with a cache of recent successes. A
 * stored credential is SCRAM (PBKDF2, 4096 iterations by default: about a millisecond of CPU),
 * which would make every reconnect of a device fleet cost that much. After one successful check
 * we keep a keyed HMAC of the password (key random per process, never the password) together with
 * the StoredKey it matched; a later check with the same password against the same, unchanged
 * credential is accepted after one HMAC. A changed or deleted user misses the cache (the current
 * record's StoredKey is compared each time), and a wrong password always pays the full check, so
 * guessing gets no faster. Unknown users cost the same PBKDF2 against a dummy credential.
 * Bounded: oldest first out.
 *
 * `check` runs the PBKDF2 on the calling thread; `checkAsync` on the libuv thread pool, so the
 * event loop serves other connections meanwhile (and the work can use another core); `checkSoon`
 * answers a cache hit at once and only a miss with a promise. One instance may serve every
 * transport (CoreDeps.passwords): a login over MQTT warms XMPP PLAIN and back.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store, UserRecord } from '../store/types.js';
import { verifyPassword, verifyPasswordAsync } from './scram.js';
import { passwordCredential } from './users.js';

/** Kept small (one per recently seen user): the StoredKey as a latin1 string, the digest in the shared Buffer pool. */
interface Entry {
  storedKey: string;
  digest: Buffer;
}

interface Lookup {
  host: string;
  user: string;
  key: string;
  rec: UserRecord | undefined;
  digest: Buffer;
  hit: boolean;
}

export class PasswordChecker {
  private readonly key = randomBytes(32);
  private readonly ok = new Map<string, Entry>();
  /** Checks answered from the cache, and checks that ran PBKDF2 (operators, tests). */
  hits = 0;
  misses = 0;

  constructor(
    private readonly store: Store,
    private readonly max = 10_000,
  ) {}

  /** True when the user exists and the password matches its credential (SCRAM-SHA-256, else SHA-1: passwordCredential). */
  check(host: string, user: string, password: Buffer | string): boolean {
    const l = this.lookup(host, user, password);
    if (l.hit) return true;
    const { hash, cred, known } = passwordCredential(l.rec);
    const ok = verifyPassword(hash, cred, passwordString(password)) && known;
    if (ok) this.remember(l);
    return ok;
  }

  /** `check` with the PBKDF2 off the event loop. */
  async checkAsync(host: string, user: string, password: Buffer | string): Promise<boolean> {
    const l = this.lookup(host, user, password);
    if (l.hit) return true;
    return this.verifyAsync(l, password);
  }

  private async verifyAsync(l: Lookup, password: Buffer | string): Promise<boolean> {
    const { hash, cred, known } = passwordCredential(l.rec);
    const matched = (await verifyPasswordAsync(hash, cred, passwordString(password))) && known;
    // The account may have been deleted or given a new password while the PBKDF2 ran: a deleted
    // user must not log in a moment after its sessions were ended (DELETE .../users/{user}).
    const now = this.store.users.get(l.host, l.user);
    const ok = matched && now !== undefined && storedKeyOf(now) === storedKeyOf(l.rec!);
    if (ok) this.remember(l);
    return ok;
  }

  /** A cache hit: true at once (no promise, no turn of the loop); otherwise `checkAsync`'s promise. */
  checkSoon(host: string, user: string, password: Buffer | string): boolean | Promise<boolean> {
    const l = this.lookup(host, user, password);
    return l.hit ? true : this.verifyAsync(l, password);
  }

  private lookup(host: string, user: string, password: Buffer | string): Lookup {
    const key = `${host}\u0000${user}`;
    const digest = createHmac('sha256', this.key).update(password).digest();
    const rec = this.store.users.get(host, user);
    const hit = this.ok.get(key);
    const ok = rec !== undefined && hit !== undefined && hit.storedKey === storedKeyOf(rec) && timingSafeEqual(hit.digest, digest);
    if (ok) this.hits++;
    else this.misses++;
    return { host, user, key, rec, digest, hit: ok };
  }

  private remember(l: Lookup): void {
    if (!l.rec) return;
    this.ok.delete(l.key);
    if (this.ok.size >= this.max) this.ok.delete(this.ok.keys().next().value!);
    // Buffer.from copies into the pool slab: no ArrayBuffer of its own per entry.
    this.ok.set(l.key, { storedKey: storedKeyOf(l.rec), digest: Buffer.from(l.digest) });
  }
}

/** The StoredKey a plain password is checked against, as the cache keeps it. */
const storedKeyOf = (rec: UserRecord): string => passwordCredential(rec).cred.storedKey.toString('latin1');

const passwordString = (p: Buffer | string): string => (typeof p === 'string' ? p : p.toString('utf8'));
