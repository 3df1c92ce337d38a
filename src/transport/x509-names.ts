/**
 * Names from a client certificate, as Mosquitto derives a username from one
 * (use_identity_as_username / use_subject_as_username, mosquitto src/handle_connect.c):
 *
 *   commonName      the first CN of the subject; null when there is none, when it holds a NUL
 *                   (an embedded NUL would cut the name short in C: a classic spoof) or is empty
 *   subjectRfc2253  the subject as OpenSSL prints it with XN_FLAG_RFC2253: most specific RDN
 *                   first, RDNs joined by ",", the values of a multi-valued RDN by "+", RFC 2253
 *                   escapes, and every byte of a non-ASCII character escaped as \XX (ESC_MSB)
 *
 * Node's X509Certificate#subject prints the same name in issuance order, one RDN a line, the
 * values of one RDN joined by " + ", with the same RFC 2253 escapes but UTF-8 left as it is
 * (OpenSSL's multi-line flags). So the subject is re-ordered and re-joined here, and non-ASCII
 * escaped; test/transport/x509-names.test.ts checks the result against `openssl x509 -nameopt
 * RFC2253` for plain, multi-valued, escaped and UTF-8 names.
 */
import type { X509Certificate } from 'node:crypto';

/** Split on a separator that is not escaped (RFC 2253 escapes are a backslash and one char or two hex digits). */
function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && i + 1 < s.length) {
      cur += s[i]! + s[i + 1]!;
      i++;
    } else if (s.startsWith(sep, i)) {
      out.push(cur);
      cur = '';
      i += sep.length - 1;
    } else cur += s[i]!;
  }
  out.push(cur);
  return out;
}

/** The value of an attribute with its escapes undone, as bytes. */
function unescape(v: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c === '\\' && /^[0-9A-Fa-f]{2}$/.test(v.slice(i + 1, i + 3))) {
      bytes.push(parseInt(v.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c === '\\' && i + 1 < v.length) {
      bytes.push(...Buffer.from(v[i + 1]!));
      i++;
    } else bytes.push(...Buffer.from(c));
  }
  return Buffer.from(bytes);
}

/** The RDNs of the subject in issuance order, each a list of `TYPE=value` (escaped) strings. */
function rdns(cert: X509Certificate): string[][] {
  const subject = cert.subject ?? '';
  if (subject === '') return [];
  return subject.split('\n').map((line) => splitUnescaped(line, ' + '));
}

/** Mosquitto's use_identity_as_username: the first CN, or null when there is no usable one. */
export function commonName(cert: X509Certificate): string | null {
  for (const rdn of rdns(cert)) {
    for (const ava of rdn) {
      if (!ava.startsWith('CN=')) continue;
      const raw = unescape(ava.slice(3));
      if (raw.length === 0 || raw.includes(0)) return null;
      const text = raw.toString('utf8');
      // Not valid UTF-8 (a replacement character appeared that was not in the bytes): unusable.
      if (!Buffer.from(text, 'utf8').equals(raw)) return null;
      return text;
    }
  }
  return null;
}

/** Mosquitto's use_subject_as_username: the subject in RFC 2253 form; null for an empty subject. */
export function subjectRfc2253(cert: X509Certificate): string | null {
  const list = rdns(cert);
  if (list.length === 0) return null;
  const escapeMsb = (s: string) => s.replace(/[^\p{ASCII}]/gu, (ch) => [...Buffer.from(ch, 'utf8')].map((b) => `\\${b.toString(16).toUpperCase()}`).join(''));
  // OpenSSL's DN_REV reverses the entries of the name (the values of a multi-valued RDN included).
  const entries: { ava: string; rdn: number }[] = [];
  list.forEach((rdn, i) => rdn.forEach((ava) => entries.push({ ava, rdn: i })));
  entries.reverse();
  let out = '';
  entries.forEach((e, i) => {
    if (i > 0) out += entries[i - 1]!.rdn === e.rdn ? '+' : ',';
    out += escapeMsb(e.ava);
  });
  return out;
}
