/**
 * SCRAM credentials (RFC 5802 §3, RFC 7677 for SHA-256): what the store keeps instead of passwords.
 *   SaltedPassword = Hi(Normalize(password), salt, i)      (PBKDF2-HMAC)
 *   ClientKey = HMAC(SaltedPassword, "Client Key");  StoredKey = H(ClientKey)
 *   ServerKey = HMAC(SaltedPassword, "Server Key")
 * A plain password (SASL PLAIN, MQTT CONNECT) is checked by re-deriving StoredKey with the stored salt
 * and iteration count and comparing in constant time. A SCRAM exchange is checked without the
 * password (RFC 5802 §3): ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage), valid when
 * H(ClientKey) = StoredKey; the server proves itself with HMAC(ServerKey, AuthMessage).
 * Tested against the RFC 5802 §5 and RFC 7677 §3 example exchanges (test/auth/scram.test.ts).
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ScramCredential } from '../store/types.js';

export type ScramHash = 'sha1' | 'sha256';

/** RFC 5802 §5.1 recommends >= 4096; RFC 7677 §4 says the same for SHA-256. */
export const DEFAULT_SCRAM_ITERATIONS = 4096;

const KEY_LENGTH: Record<ScramHash, number> = { sha1: 20, sha256: 32 };

/**
 * SASLprep (RFC 4013 §2.1-2.2) mapping and normalisation: non-ASCII spaces (RFC 3454 C.1.2) to
 * U+0020, "commonly mapped to nothing" (B.1) removed, then NFKC. Prohibited characters are checked
 * separately by `passwordProblem` when a password is set (a stored string, RFC 4013 §2.5); logins
 * only map, so a check never locks out an existing user.
 */
export function saslprep(password: string): string {
  return password
    .replace(/[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g, ' ')
    .replace(/[\u00AD\u034F\u1806\u180B-\u180D\u200C\u200D\u2060\uFE00-\uFE0F\uFEFF]/g, '')
    .normalize('NFKC');
}

// RFC 4013 §2.3 prohibited output (RFC 3454 C.1.2 after mapping is impossible): C.2.1/C.2.2
// controls, C.3 private use, C.4 non-characters, C.5 surrogates, C.6 inappropriate for plain text,
// C.7 ideographic description, C.8 change display properties, C.9 tagging; \p{Cn} approximates
// §2.5 "unassigned code points" with the running Unicode version.
const PROHIBITED =
  /[\u0000-\u001F\u007F-\u009F\u06DD\u070F\u180E\u2028\u2029\u2060-\u2063\u206A-\u206F\uFEFF\uFFF9-\uFFFD\u{1D173}-\u{1D17A}\uE000-\uF8FF\u{F0000}-\u{FFFFD}\u{100000}-\u{10FFFD}\uFDD0-\uFDEF\p{Cs}\u2FF0-\u2FFB\u0340\u0341\u200E\u200F\u202A-\u202E\u{E0001}\u{E0020}-\u{E007F}\p{Cn}]/u;

/** Why a password cannot be stored (empty after SASLprep, prohibited character), or null when fine. */
export function passwordProblem(password: string): string | null {
  const prepared = saslprep(password);
  if (prepared.length === 0) return 'the password is empty';
  const bad = PROHIBITED.exec(prepared);
  if (bad) {
    const cp = bad[0].codePointAt(0) ?? 0;
    return `the password contains a prohibited character U+${cp.toString(16).toUpperCase().padStart(4, '0')} (RFC 4013 §2.3)`;
  }
  return null;
}

export function saltedPassword(hash: ScramHash, password: string, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(saslprep(password), salt, iterations, KEY_LENGTH[hash], hash);
}

export function hmac(hash: ScramHash, key: Buffer, data: string | Buffer): Buffer {
  return createHmac(hash, key).update(data).digest();
}

export function h(hash: ScramHash, data: Buffer): Buffer {
  return createHash(hash).update(data).digest();
}

/** Keys derived from a SaltedPassword. */
export function keysFromSalted(hash: ScramHash, salted: Buffer): { clientKey: Buffer; storedKey: Buffer; serverKey: Buffer } {
  const clientKey = hmac(hash, salted, 'Client Key');
  return { clientKey, storedKey: h(hash, clientKey), serverKey: hmac(hash, salted, 'Server Key') };
}

export function deriveCredential(
  hash: ScramHash,
  password: string,
  iterations: number = DEFAULT_SCRAM_ITERATIONS,
  salt: Buffer = randomBytes(16),
): ScramCredential {
  const { storedKey, serverKey } = keysFromSalted(hash, saltedPassword(hash, password, salt, iterations));
  return { salt, iterations, storedKey, serverKey };
}

/** Constant-time check of a plain password against a stored credential. */
export function verifyPassword(hash: ScramHash, cred: ScramCredential, password: string): boolean {
  const { storedKey } = keysFromSalted(hash, saltedPassword(hash, password, cred.salt, cred.iterations));
  return safeEqual(storedKey, cred.storedKey);
}

/** RFC 5802 §3: AuthMessage = client-first-message-bare + "," + server-first-message + "," + client-final-message-without-proof. */
export function authMessage(clientFirstBare: string, serverFirst: string, clientFinalWithoutProof: string): string {
  return `${clientFirstBare},${serverFirst},${clientFinalWithoutProof}`;
}

/** Client side (test clients, RFC examples): ClientProof = ClientKey XOR HMAC(StoredKey, AuthMessage). */
export function clientProof(hash: ScramHash, salted: Buffer, authMsg: string): Buffer {
  const { clientKey, storedKey } = keysFromSalted(hash, salted);
  return bufferXor(clientKey, hmac(hash, storedKey, authMsg));
}

/** Server side: is `proof` the client-final-message's p= for this credential? Constant time. */
export function verifyClientProof(hash: ScramHash, cred: ScramCredential, authMsg: string, proof: Buffer): boolean {
  const signature = hmac(hash, cred.storedKey, authMsg);
  if (proof.length !== signature.length) {
    safeEqual(signature, signature);
    return false;
  }
  return safeEqual(h(hash, bufferXor(proof, signature)), cred.storedKey);
}

/** ServerSignature = HMAC(ServerKey, AuthMessage): the server-final-message's v= (RFC 5802 §3). */
export function serverSignature(hash: ScramHash, cred: ScramCredential, authMsg: string): Buffer {
  return hmac(hash, cred.serverKey, authMsg);
}

/** timingSafeEqual that accepts different lengths (still constant time in the longer input). */
export function safeEqual(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) {
    timingSafeEqual(a, a);
    return false;
  }
  return timingSafeEqual(a, b);
}

export function bufferXor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0);
  return out;
}
