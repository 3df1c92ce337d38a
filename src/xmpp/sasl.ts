/**
 * SASL in XMPP (RFC 6120 §6): the mechanism interface, failure conditions (§6.5) and the XML of
 * challenges, success and failure. Mechanisms are small state objects: `start` takes the initial
 * response, `step` each further response; both return what to send next.
 */
import { formatJid, normaliseLocal, tryParseJid } from '../jid.js';
import type { UserRecord } from '../store/types.js';
import { type XmlEl, x } from './xml.js';

export const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';

/** RFC 6120 §6.5 failure conditions. */
export type SaslCondition =
  | 'aborted'
  | 'account-disabled'
  | 'credentials-expired'
  | 'encryption-required'
  | 'incorrect-encoding'
  | 'invalid-authzid'
  | 'invalid-mechanism'
  | 'malformed-request'
  | 'mechanism-too-weak'
  | 'not-authorized'
  | 'temporary-auth-failure';

export type SaslStep =
  | { kind: 'challenge'; data: Buffer }
  | { kind: 'success'; user: string; data: Buffer | null }
  | { kind: 'failure'; condition: SaslCondition; text?: string }
  /** PLAIN: the password still has to be checked (asynchronously, by the connection) before success. */
  | { kind: 'verify'; user: string; password: string };

/** What goes on the wire (a `verify` step is resolved into success or failure first). */
export type SaslReply = Exclude<SaslStep, { kind: 'verify' }>;

export interface SaslMechanism {
  start(initial: Buffer | null): SaslStep;
  step(response: Buffer): SaslStep;
}

export interface SaslContext {
  /** The domain being authenticated against. */
  host: string;
  /** User record by normalised localpart. */
  lookupUser(user: string): UserRecord | undefined;
  /** Fresh random printable nonce (SCRAM server nonce). */
  nonce(): string;
  /** True when the stream is TLS-protected. */
  secure: boolean;
}

/** The SASL authcid as a store key (RFC 7622 localpart normalisation), or null when it cannot be one. */
export function accountOf(authcid: string): string | null {
  try {
    return authcid === '' ? null : normaliseLocal(authcid);
  } catch {
    return null;
  }
}

/** RFC 6120 §6.3.8: an authzid, when given, must name the authenticated account (bare JID or localpart). */
export function authzidMatches(authzid: string, user: string, host: string): boolean {
  if (authzid === '' || accountOf(authzid) === user) return true;
  const j = tryParseJid(authzid);
  return j !== null && j.resource === null && formatJid(j) === `${user}@${host}`;
}

export const failure = (condition: SaslCondition, text?: string): SaslStep =>
  text === undefined ? { kind: 'failure', condition } : { kind: 'failure', condition, text };

/**
 * Base64 payload of <auth/> / <response/> (RFC 6120 §6.4.2): empty element = no data, '=' = an
 * empty response. Returns 'bad' when it is not valid base64.
 */
export function decodeSaslPayload(s: string): Buffer | null | 'bad' {
  const t = s.trim();
  if (t === '') return null;
  if (t === '=') return Buffer.alloc(0);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t) || t.length % 4 !== 0) return 'bad';
  return Buffer.from(t, 'base64');
}

export function saslStepXml(step: SaslReply): XmlEl {
  switch (step.kind) {
    case 'challenge':
      return x('challenge', { xmlns: NS_SASL }, step.data.length ? step.data.toString('base64') : '=');
    case 'success':
      return x('success', { xmlns: NS_SASL }, step.data ? step.data.toString('base64') : null);
    case 'failure':
      return x(
        'failure',
        { xmlns: NS_SASL },
        x(step.condition),
        step.text ? x('text', { 'xml:lang': 'en' }, step.text) : null,
      );
  }
}
