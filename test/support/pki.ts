/**
 * A throw-away PKI for TLS tests, made with the `openssl` command (Debian package openssl) in a
 * temp directory: a CA, a server certificate for localhost / 127.0.0.1, client certificates
 * (with the subjects a test asks for, one without a CN), one of them revoked in a CRL, and a
 * second server certificate from another CA (certificate reload). EC P-256 keys: fast to make.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Pki {
  dir: string;
  ca: string;
  crl: string;
  serverCert: string;
  serverKey: string;
  /** Client certificates by name: their cert and key files. */
  clients: Record<string, { cert: string; key: string }>;
  /** Make another server pair signed by a new CA (a certificate that differs from the first). */
  otherServer(name: string): Promise<{ ca: string; cert: string; key: string }>;
  remove(): void;
}

const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function makeCa(dir: string, name: string, subject: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  await run('openssl', ['req', '-x509', ...KEY, '-keyout', key, '-out', cert, '-days', '2', '-subj', subject, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return { cert, key };
}

async function issue(dir: string, ca: { cert: string; key: string }, name: string, subject: string, ext: string | null): Promise<{ cert: string; key: string }> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  await run('openssl', ['req', ...KEY, '-keyout', key, '-out', csr, '-subj', subject, '-utf8', ...(/(^|[^\\])\+/.test(subject) ? ['-multivalue-rdn'] : [])]);
  const extArgs: string[] = [];
  if (ext !== null) {
    const extFile = join(dir, `${name}.ext`);
    writeFileSync(extFile, ext);
    extArgs.push('-extfile', extFile);
  }
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', ...extArgs]);
  return { cert, key };
}

/** `clients`: name -> subject (`/` form, as `openssl req -subj` takes it; '/' alone = empty subject). */
export async function makePki(clients: Record<string, string>, revoke: readonly string[] = []): Promise<Pki> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-pki-'));
  const ca = await makeCa(dir, 'ca', '/CN=Vigil Test CA');
  const server = await issue(dir, ca, 'server', '/CN=localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  const out: Pki['clients'] = {};
  for (const [name, subject] of Object.entries(clients)) out[name] = await issue(dir, ca, `client-${name}`, subject, 'extendedKeyUsage=clientAuth\n');
  // The CRL: `openssl ca` with a minimal database, revoking the named clients.
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'crlnumber'), '01\n');
  const cnf = join(dir, 'ca.cnf');
  writeFileSync(cnf, `[ca]\ndefault_ca = d\n[d]\ndatabase = ${join(dir, 'index.txt')}\ncrlnumber = ${join(dir, 'crlnumber')}\ndefault_md = sha256\ndefault_crl_days = 2\n`);
  for (const name of revoke) await run('openssl', ['ca', '-config', cnf, '-keyfile', ca.key, '-cert', ca.cert, '-revoke', out[name]!.cert]);
  const crl = join(dir, 'ca.crl');
  await run('openssl', ['ca', '-config', cnf, '-keyfile', ca.key, '-cert', ca.cert, '-gencrl', '-out', crl]);
  return {
    dir,
    ca: ca.cert,
    crl,
    serverCert: server.cert,
    serverKey: server.key,
    clients: out,
    async otherServer(name) {
      const ca2 = await makeCa(dir, `${name}-ca`, `/CN=Vigil Other CA ${name}`);
      const s = await issue(dir, ca2, `${name}-server`, '/CN=localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
      return { ca: ca2.cert, ...s };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The subject of a certificate as `openssl x509 -nameopt RFC2253` prints it (Mosquitto's format). */
export async function opensslRfc2253(cert: string): Promise<string> {
  const { stdout } = await run('openssl', ['x509', '-in', cert, '-noout', '-subject', '-nameopt', 'RFC2253']);
  return stdout.trim().replace(/^subject=\s*/, '');
}
