/**
 * src/transport/x509-names.ts against OpenSSL itself: the RFC 2253 subject Mosquitto's
 * use_subject_as_username gives (`openssl x509 -nameopt RFC2253`), and the CN its
 * use_identity_as_username takes, for plain, multi-valued, escaped and UTF-8 names.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commonName, subjectRfc2253 } from '../../src/transport/x509-names.js';
import { type Pki, makePki, opensslRfc2253 } from '../support/pki.js';

const SUBJECTS = {
  plain: '/C=GB/ST=Nottinghamshire/L=Nottingham/O=Server/OU=Production/CN=test client',
  multi: '/C=DE/O=Acme+OU=Fleet/CN=dev-42',
  escaped: '/O=Acme, Inc./CN=a\\+b "quoted" <x>;y',
  utf8: '/O=Société Générale/CN=Jérôme',
  twoCn: '/CN=first/CN=second',
  noCn: '/O=No Name Ltd/C=FR',
};

let pki: Pki;
beforeAll(async () => {
  pki = await makePki(SUBJECTS);
}, 60_000);
afterAll(() => pki?.remove());

const cert = (name: keyof typeof SUBJECTS) => new X509Certificate(readFileSync(pki.clients[name]!.cert));

describe('certificate names as Mosquitto takes them', () => {
  it.each(Object.keys(SUBJECTS) as (keyof typeof SUBJECTS)[])('subject %s in RFC 2253 order equals openssl -nameopt RFC2253', async (name) => {
    expect(subjectRfc2253(cert(name))).toBe(await opensslRfc2253(pki.clients[name]!.cert));
  });

  it('reads the first CN, unescaped; a subject without one has no identity', () => {
    expect(commonName(cert('plain'))).toBe('test client');
    expect(commonName(cert('escaped'))).toBe('a+b "quoted" <x>;y');
    expect(commonName(cert('utf8'))).toBe('Jérôme');
    expect(commonName(cert('twoCn'))).toBe('first');
    expect(commonName(cert('noCn'))).toBeNull();
  });

  it('the man page example: most specific first, comma separated', () => {
    expect(subjectRfc2253(cert('plain'))).toBe('CN=test client,OU=Production,O=Server,L=Nottingham,ST=Nottinghamshire,C=GB');
  });
});
