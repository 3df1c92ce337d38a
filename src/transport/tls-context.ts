/**
 * A `tls:` block (Mosquitto's key names, src/config/schema/listeners.ts) as Node.js TLS options,
 * read from its files now (startup, and again on every SIGHUP: tls-reload.ts):
 *
 *   certfile, keyfile -> cert, key        cafile -> ca        crlfile -> crl
 *   tls_version (a minimum) -> minVersion   ciphers -> ciphers
 *   require_certificate -> requestCert + rejectUnauthorized (server options: they survive
 *   setSecureContext, the rest is passed again on each reload)
 *
 * `loadSecureOptions` builds a SecureContext from what it read before returning it, so a key that
 * does not match its certificate, or a half-written file, fails here and never replaces a working
 * context.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext, type SecureContextOptions, type TlsOptions } from 'node:tls';
import type { TlsSettings } from '../config/schema/listeners.js';

const MIN_VERSION = { 'tlsv1.2': 'TLSv1.2', 'tlsv1.3': 'TLSv1.3' } as const;

/** The secure context options of a block, read from its files; throws naming the file that failed. */
export function loadSecureOptions(block: TlsSettings, fallback: { cert: Buffer; key: Buffer } | null = null): SecureContextOptions {
  const read = (path: string, what: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
    }
  };
  const opts: SecureContextOptions = { minVersion: MIN_VERSION[block.tls_version] };
  if (block.certfile !== null && block.keyfile !== null) {
    opts.cert = read(block.certfile, 'certfile');
    opts.key = read(block.keyfile, 'keyfile');
  } else if (fallback) {
    opts.cert = fallback.cert;
    opts.key = fallback.key;
  }
  if (block.cafile !== null) opts.ca = read(block.cafile, 'cafile');
  if (block.crlfile !== null) opts.crl = read(block.crlfile, 'crlfile');
  if (block.ciphers !== null) opts.ciphers = block.ciphers;
  checkContext(opts, block);
  return opts;
}

/** Build (and so check) a context from `opts`; throws with OpenSSL's reason and the files named. */
export function checkContext(opts: SecureContextOptions, block: Pick<TlsSettings, 'certfile' | 'keyfile'> | null = null): SecureContext {
  try {
    return createSecureContext(opts);
  } catch (err) {
    const files = block ? ` (certfile ${block.certfile ?? '-'}, keyfile ${block.keyfile ?? '-'})` : '';
    throw new Error(`${(err as Error).message}${files}`, { cause: err });
  }
}

/** The options of a TLS server for a block: its secure context options and the client certificate policy. */
export function serverTlsOptions(block: TlsSettings, secure: SecureContextOptions): TlsOptions {
  return { ...secure, requestCert: block.require_certificate, rejectUnauthorized: block.require_certificate };
}
