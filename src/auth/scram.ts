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
import { createHash, createHmac, pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ScramCredential } from '../store/types.js';
import { saslprep } from './saslprep.js';

export { passwordProblem, saslprep } from './saslprep.js';

export type ScramHash = 'sha1' | 'sha256';

/** RFC 5802 §5.1 recommends >= 4096; RFC 7677 §4 says the same for SHA-256. */
export const DEFAULT_SCRAM_ITERATIONS = 4096;

const KEY_LENGTH: Record<ScramHash, number> = { sha1: 20, sha256: 32 };

export function saltedPassword(hash: ScramHash, password: string, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(saslprep(password), salt, iterations, KEY_LENGTH[hash], hash);
}

/** saltedPassword on the libuv thread pool: the event loop stays free (and a second core can work). */
export function saltedPasswordAsync(hash: ScramHash, password: string, salt: Buffer, iterations: number): Promise<Buffer> {
  const normalised = saslprep(password);
  return new Promise((resolve, reject) => {
    pbkdf2(normalised, salt, iterations, KEY_LENGTH[hash], hash, (err, key) => (err ? reject(err) : resolve(key)));
  });
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

function credentialFrom(hash: ScramHash, salted: Buffer, salt: Buffer, iterations: number): ScramCredential {
  const { storedKey, serverKey } = keysFromSalted(hash, salted);
  return { salt, iterations, storedKey, serverKey };
}

export function deriveCredential(
  hash: ScramHash,
  password: string,
  iterations: number = DEFAULT_SCRAM_ITERATIONS,
  salt: Buffer = randomBytes(16),
): ScramCredential {
  return credentialFrom(hash, saltedPassword(hash, password, salt, iterations), salt, iterations);
}

/** deriveCredential with the PBKDF2 on the libuv pool. */
export async function deriveCredentialAsync(
  hash: ScramHash,
  password: string,
  iterations: number = DEFAULT_SCRAM_ITERATIONS,
  salt: Buffer = randomBytes(16),
): Promise<ScramCredential> {
  return credentialFrom(hash, await saltedPasswordAsync(hash, password, salt, iterations), salt, iterations);
}

/** Constant-time check of a plain password against a stored credential. */
export function verifyPassword(hash: ScramHash, cred: ScramCredential, password: string): boolean {
  const { storedKey } = keysFromSalted(hash, saltedPassword(hash, password, cred.salt, cred.iterations));
  return safeEqual(storedKey, cred.storedKey);
}

/** verifyPassword with the PBKDF2 off the event loop (SASL PLAIN). */
export async function verifyPasswordAsync(hash: ScramHash, cred: ScramCredential, password: string): Promise<boolean> {
  const { storedKey } = keysFromSalted(hash, await saltedPasswordAsync(hash, password, cred.salt, cred.iterations));
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
