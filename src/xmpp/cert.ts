/**
 * TLS material for STARTTLS: the configured certfile/keyfile, or a self-signed certificate
 * generated once into data_dir/xmpp-tls/ with the `openssl` command (Debian package openssl).
 * One certificate covers every host without its own files (SAN lists them all).
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';

const run = promisify(execFile);

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
  certPath: string;
  keyPath: string;
  generated: boolean;
}

export async function ensureSelfSigned(dataDir: string, hosts: string[], logger: Logger): Promise<TlsFiles> {
  const dir = join(dataDir, 'xmpp-tls');
  const certPath = join(dir, 'self-signed.crt');
  const keyPath = join(dir, 'self-signed.key');
  let generated = false;
  if (!existsSync(certPath) || !existsSync(keyPath)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const cn = hosts[0] ?? 'localhost';
    const san = hosts.map((h) => `DNS:${h}`).join(',') || 'DNS:localhost';
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyPath, '-out', certPath, '-days', '3650', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=${san}`,
    ]);
    chmodSync(keyPath, 0o600);
    generated = true;
    logger.warn({ event: 'xmpp_tls_self_signed', certPath, keyPath, hosts }, 'xmpp_tls_self_signed: generated a self-signed certificate; configure xmpp.certfile/keyfile for a real one');
  } else {
    logger.info({ event: 'xmpp_tls_self_signed', certPath }, 'xmpp_tls_self_signed: using the generated certificate');
  }
  return { cert: readFileSync(certPath), key: readFileSync(keyPath), certPath, keyPath, generated };
}

export function loadConfigured(certfile: string, keyfile: string): TlsFiles {
  return { cert: readFileSync(certfile), key: readFileSync(keyfile), certPath: certfile, keyPath: keyfile, generated: false };
}
