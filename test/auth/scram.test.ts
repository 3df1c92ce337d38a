import { describe, expect, it } from 'vitest';
import {
  authMessage,
  clientProof,
  DEFAULT_SCRAM_ITERATIONS,
  deriveCredential,
  passwordProblem,
  safeEqual,
  saltedPassword,
  saslprep,
  serverSignature,
  type ScramHash,
  verifyClientProof,
  verifyPassword,
} from '../../src/auth/scram.js';

/** The example exchanges of RFC 5802 §5 (SHA-1) and RFC 7677 §3 (SHA-256): user "user", password "pencil". */
const EXAMPLES: Record<ScramHash, { clientFirstBare: string; serverFirst: string; clientFinalNoProof: string; salt: string; proof: string; verifier: string }> = {
  sha1: {
    clientFirstBare: 'n=user,r=fyko+d2lbbFgONRv9qkxdawL',
    serverFirst: 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096',
    clientFinalNoProof: 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j',
    salt: 'QSXCR+Q6sek8bf92',
    proof: 'v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
    verifier: 'rmF9pqV8S7suAoZWja4dJRkFsKQ=',
  },
  sha256: {
    clientFirstBare: 'n=user,r=rOprNGfwEbeRWgbNEkqO',
    serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
    clientFinalNoProof: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
    salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
    proof: 'dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
    verifier: '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
  },
};

describe.each(['sha1', 'sha256'] as const)('SCRAM-%s RFC example exchange', (hash) => {
  const ex = EXAMPLES[hash];
  const salt = Buffer.from(ex.salt, 'base64');
  const am = authMessage(ex.clientFirstBare, ex.serverFirst, ex.clientFinalNoProof);
  const cred = deriveCredential(hash, 'pencil', 4096, salt);

  it('computes the client proof of the RFC', () => {
    expect(clientProof(hash, saltedPassword(hash, 'pencil', salt, 4096), am).toString('base64')).toBe(ex.proof);
  });

  it('accepts the RFC proof with the stored credential only (no password)', () => {
    expect(verifyClientProof(hash, cred, am, Buffer.from(ex.proof, 'base64'))).toBe(true);
  });

  it('computes the server signature of the RFC (server-final v=)', () => {
    expect(serverSignature(hash, cred, am).toString('base64')).toBe(ex.verifier);
  });

  it('rejects a wrong, truncated or empty proof', () => {
    const proof = Buffer.from(ex.proof, 'base64');
    const flipped = Buffer.from(proof);
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(verifyClientProof(hash, cred, am, flipped)).toBe(false);
    expect(verifyClientProof(hash, cred, am, proof.subarray(1))).toBe(false);
    expect(verifyClientProof(hash, cred, am, Buffer.alloc(0))).toBe(false);
    expect(verifyClientProof(hash, cred, `${am}x`, proof)).toBe(false);
  });

  it('verifies the plain password against the credential', () => {
    expect(verifyPassword(hash, cred, 'pencil')).toBe(true);
    expect(verifyPassword(hash, cred, 'pencil ')).toBe(false);
    expect(verifyPassword(hash, cred, '')).toBe(false);
  });

  it('keeps the key lengths of the hash', () => {
    const n = hash === 'sha1' ? 20 : 32;
    expect(cred.storedKey).toHaveLength(n);
    expect(cred.serverKey).toHaveLength(n);
  });
});

describe('deriveCredential', () => {
  it('defaults to 4096 iterations and a fresh 16-byte salt', () => {
    expect(DEFAULT_SCRAM_ITERATIONS).toBe(4096);
    const a = deriveCredential('sha256', 'pw');
    const b = deriveCredential('sha256', 'pw');
    expect(a.iterations).toBe(4096);
    expect(a.salt).toHaveLength(16);
    expect(a.salt.equals(b.salt)).toBe(false);
    expect(a.storedKey.equals(b.storedKey)).toBe(false);
  });
});

describe('SASLprep (RFC 4013)', () => {
  it('maps non-ASCII spaces to SPACE and drops soft hyphens (RFC 4013 §3 examples)', () => {
    expect(saslprep('I\u00ADX')).toBe('IX');
    expect(saslprep('user')).toBe('user');
    expect(saslprep('USER')).toBe('USER');
    expect(saslprep('\u00AA')).toBe('a');
    expect(saslprep('\u2168')).toBe('IX');
    expect(saslprep('a\u00A0b\u3000c')).toBe('a b c');
    expect(saslprep('a\u200Bb')).toBe('a b');
    expect(saslprep('a\u200D\uFE0F\uFEFFb')).toBe('ab');
    expect(saslprep('\u{1F600}')).toBe('\u{1F600}');
  });

  it('makes equivalent passwords verify', () => {
    const cred = deriveCredential('sha256', 'I\u00ADX', 1);
    expect(verifyPassword('sha256', cred, '\u2168')).toBe(true);
  });

  it('passwordProblem refuses empty and prohibited passwords (RFC 4013 §2.3)', () => {
    expect(passwordProblem('pencil')).toBeNull();
    expect(passwordProblem('pässwörd with spaces')).toBeNull();
    expect(passwordProblem('')).toBe('the password is empty');
    expect(passwordProblem('\u00AD')).toBe('the password is empty');
    expect(passwordProblem('a\u0007')).toMatch(/U\+0007/);
    expect(passwordProblem('a\u200Eb')).toMatch(/U\+200E/);
    expect(passwordProblem('\uE000')).toMatch(/U\+E000/);
    expect(passwordProblem('a\ud800')).toMatch(/U\+D800/);
    expect(passwordProblem('a\u{E0041}')).toMatch(/U\+E0041/);
    expect(passwordProblem('a\u0378')).toMatch(/U\+0378/); // unassigned
    expect(passwordProblem('emoji \u{1F600}')).toBeNull();
  });
});

describe('safeEqual', () => {
  it('compares in constant time and handles different lengths', () => {
    expect(safeEqual(Buffer.from('abc'), Buffer.from('abc'))).toBe(true);
    expect(safeEqual(Buffer.from('abc'), Buffer.from('abd'))).toBe(false);
    expect(safeEqual(Buffer.from('abc'), Buffer.from('ab'))).toBe(false);
  });
});
