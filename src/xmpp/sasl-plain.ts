/**
 * SASL PLAIN (RFC 4616): one message `[authzid] NUL authcid NUL passwd` (§2). Offered only over
 * TLS unless allow_plaintext_auth (the caller decides what to advertise; this module checks again
 * so a client cannot pick it anyway). The password itself is not checked here: the step is
 * `verify`, and the connection checks it against the stored SCRAM-SHA-256 credential off the
 * event loop (src/auth/password-cache.ts), then feeds the outcome back to the stream machine.
 */
import { type SaslContext, type SaslMechanism, type SaslStep, accountOf, authzidMatches, failure } from './sasl.js';

export function createPlain(ctx: SaslContext, allowPlaintext: boolean): SaslMechanism {
  const check = (msg: Buffer): SaslStep => {
    if (!ctx.secure && !allowPlaintext) return failure('encryption-required');
    const parts = msg.toString('utf8').split('\u0000');
    // RFC 4616 §2: exactly two NULs; authcid and passwd are non-empty.
    if (parts.length !== 3) return failure('malformed-request');
    const [authzid = '', authcid = '', password = ''] = parts;
    const user = accountOf(authcid);
    if (user === null || password === '') return failure('not-authorized');
    if (!authzidMatches(authzid, user, ctx.host)) return failure('invalid-authzid');
    return { kind: 'verify', user, password };
  };
  return {
    start: (initial) => (initial === null ? { kind: 'challenge', data: Buffer.alloc(0) } : check(initial)),
    step: check,
  };
}
