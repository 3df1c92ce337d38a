/**
 * XMPP addresses (RFC 7622): [localpart "@"] domainpart ["/" resourcepart].
 *
 * Parsing follows RFC 7622 §3.1 literally: the resourcepart is everything after the FIRST "/" (it
 * may itself contain "@" and "/"), the localpart is what precedes the first "@" of the rest.
 * Each part is 1..1023 octets once UTF-8 encoded (§3.2, §3.3, §3.4); a separator with an empty
 * part is an error ("@example.com", "a@b/").
 *
 * Normalisation (a practical subset of the PRECIS profiles, no full Unicode property tables):
 *  - localpart: UsernameCaseMapped (RFC 8265 §3.3) -> NFC, lower-case; forbidden: the characters
 *    " & ' / : < > @ (RFC 7622 §3.3.1), whitespace and control characters.
 *  - domainpart: lower-case, NFC, one trailing "." removed (§3.2); IPv6 literals in brackets kept.
 *    Forbidden: whitespace, control characters and the separators "@" "/".
 *  - resourcepart: OpaqueString (RFC 8265 §4.2) -> non-ASCII spaces mapped to U+0020, NFC, case
 *    kept; control characters forbidden.
 * Normalised JIDs are what the store, the router and the liveness timers key on.
 */
import { VigilError } from './errors.js';

export interface Jid {
  local: string | null;
  domain: string;
  resource: string | null;
}

/** RFC 7622 §3.2-3.4: each part is at most 1023 octets. */
export const MAX_PART_BYTES = 1023;

const LOCAL_FORBIDDEN = /["&'/:<>@]/;
const WHITESPACE = /[\s\u0085\u180E]/u;
// C0 and C1 controls and DEL (General_Category Cc).
const CONTROL = /\p{Cc}/u;
const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/gu;
const DOMAIN_FORBIDDEN = /[@/]/;

export class JidError extends VigilError {
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super('VIGIL_ERR_BAD_JID', `${JSON.stringify(input)}: ${reason}`);
    this.name = 'JidError';
  }
}

function checkLength(input: string, part: string, value: string): void {
  if (value.length === 0) throw new JidError(input, `empty ${part}`);
  if (Buffer.byteLength(value, 'utf8') > MAX_PART_BYTES) {
    throw new JidError(input, `${part} longer than ${MAX_PART_BYTES} bytes`);
  }
  if (/\p{Cs}/u.test(value)) throw new JidError(input, `${part} is not valid Unicode`);
}

export function normaliseLocal(value: string, input = value): string {
  const out = value.normalize('NFC').toLowerCase();
  checkLength(input, 'localpart', out);
  if (LOCAL_FORBIDDEN.test(out)) throw new JidError(input, `localpart contains one of " & ' / : < > @`);
  if (WHITESPACE.test(out) || CONTROL.test(out)) throw new JidError(input, 'localpart contains whitespace or a control character');
  return out;
}

export function normaliseDomain(value: string, input = value): string {
  let out = value.normalize('NFC').toLowerCase();
  if (out.endsWith('.')) out = out.slice(0, -1); // RFC 7622 §3.2: a trailing dot is stripped
  checkLength(input, 'domainpart', out);
  if (out.startsWith('[')) {
    if (!/^\[[0-9a-f:.]+\]$/.test(out)) throw new JidError(input, 'malformed IPv6 literal in domainpart');
    return out;
  }
  if (DOMAIN_FORBIDDEN.test(out) || WHITESPACE.test(out) || CONTROL.test(out)) {
    throw new JidError(input, 'domainpart contains whitespace, a control character, "@" or "/"');
  }
  if (out.split('.').some((label) => label.length === 0)) throw new JidError(input, 'domainpart has an empty label');
  return out;
}

export function normaliseResource(value: string, input = value): string {
  const out = value.replace(NON_ASCII_SPACE, ' ').normalize('NFC');
  checkLength(input, 'resourcepart', out);
  if (CONTROL.test(out)) throw new JidError(input, 'resourcepart contains a control character');
  return out;
}

/** Parse and normalise; throws JidError (VIGIL_ERR_BAD_JID). */
export function parseJid(input: string): Jid {
  const slash = input.indexOf('/');
  const head = slash === -1 ? input : input.slice(0, slash);
  const resource = slash === -1 ? null : normaliseResource(input.slice(slash + 1), input);
  const at = head.indexOf('@');
  const local = at === -1 ? null : normaliseLocal(head.slice(0, at), input);
  const domain = normaliseDomain(at === -1 ? head : head.slice(at + 1), input);
  return { local, domain, resource };
}

export function tryParseJid(input: string): Jid | null {
  try {
    return parseJid(input);
  } catch (err) {
    if (err instanceof JidError) return null;
    throw err;
  }
}

export function formatJid(jid: Jid): string {
  const bareStr = jid.local === null ? jid.domain : `${jid.local}@${jid.domain}`;
  return jid.resource === null ? bareStr : `${bareStr}/${jid.resource}`;
}

export function bareJid(jid: Jid): Jid {
  return { local: jid.local, domain: jid.domain, resource: null };
}

export function isBare(jid: Jid): boolean {
  return jid.resource === null;
}

export function isFull(jid: Jid): boolean {
  return jid.resource !== null;
}

export function jidEquals(a: Jid, b: Jid): boolean {
  return a.local === b.local && a.domain === b.domain && a.resource === b.resource;
}

/** Normalised string form of an input JID ("Alice@Example.COM." -> "alice@example.com"). */
export function normaliseJid(input: string): string {
  return formatJid(parseJid(input));
}
