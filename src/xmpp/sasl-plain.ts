/**
 * SASL PLAIN (RFC 4616): one message `[authzid] NUL authcid NUL passwd`, checked against the
 * stored SCRAM-SHA-256 credential. Offered only over TLS unless allow_plaintext_auth (the caller
 * decides what to advertise; this module checks again so a client cannot pick it anyway).
 */
import { verifyPassword } from '../auth/scram.js';
import { type SaslContext, type SaslMechanism, type SaslStep, accountOf, authzidMatches, failure } from './sasl.js';
import { DUMMY_SHA256 } from './sasl-scram.js';

export function createPlain(ctx: SaslContext, allowPlaintext: boolean): SaslMechanism {
  const check = (msg: Buffer): SaslStep => {
    if (!ctx.secure && !allowPlaintext) return failure('encryption-required');
    const parts = msg.toString('utf8').split('\u0000');
    if (parts.length !== 3) return failure('malformed-request');
    const [authzid = '', authcid = '', password = ''] = parts;
    const user = accountOf(authcid);
    if (user === null || password === '') return failure('not-authorized');
    if (!authzidMatches(authzid, user, ctx.host)) return failure('invalid-authzid');
    const rec = ctx.lookupUser(user);
    // Same work for unknown users so timing does not tell which users exist.
    const ok = verifyPassword('sha256', rec ? rec.scramSha256 : DUMMY_SHA256, password) && rec !== undefined;
    return ok ? { kind: 'success', user, data: null } : failure('not-authorized');
  };
  return {
    start: (initial) => (initial === null ? { kind: 'challenge', data: Buffer.alloc(0) } : check(initial)),
    step: check,
  };
}
