/**
 * SASL SCRAM-SHA-1 / SCRAM-SHA-256, server side (RFC 5802 §5, RFC 7677), without channel binding
 * (we do not advertise -PLUS; a client asking for it with "p=" is refused, §6).
 *
 *   client-first  = gs2-header client-first-bare      gs2-header = ("n" | "y") "," [ "a=" authzid ] ","
 *   server-first  = "r=" cnonce snonce ",s=" salt ",i=" iterations
 *   client-final  = "c=" base64(gs2-header) ",r=" nonce ",p=" proof
 *   server-final  = "v=" base64(ServerSignature)
 *
 * Unknown users get a made-up salt and fail at the proof, like real ones with a wrong password.
 */
import { bufferXor, deriveCredential, h, hmac, safeEqual, type ScramHash } from '../auth/scram.js';
import type { ScramCredential } from '../store/types.js';
import { type SaslContext, type SaslMechanism, type SaslStep, accountOf, authzidMatches, failure } from './sasl.js';

export const DUMMY_SHA256 = deriveCredential('sha256', 'vigil-no-such-user', 4096, Buffer.alloc(16, 3));
const DUMMY_SHA1 = deriveCredential('sha1', 'vigil-no-such-user', 4096, Buffer.alloc(16, 3));

/** RFC 5802 §5.1: saslname escapes ',' as =2C and '=' as =3D; any other '=' is malformed. */
function decodeSaslName(s: string): string | null {
  if (/=(?!2C|3D)/.test(s)) return null;
  return s.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

function attrs(msg: string): Map<string, string> | null {
  const out = new Map<string, string>();
  for (const part of msg.split(',')) {
    const m = /^([a-zA-Z])=(.*)$/s.exec(part);
    if (!m || m[1] === undefined || m[2] === undefined) return null;
    if (!out.has(m[1])) out.set(m[1], m[2]);
  }
  return out;
}

type Phase =
  | { name: 'initial' }
  | { name: 'sent-first'; user: string; known: boolean; cred: ScramCredential; gs2: string; clientFirstBare: string; serverFirst: string; nonce: string }
  | { name: 'done' };

export function createScram(hash: ScramHash, ctx: SaslContext): SaslMechanism {
  let phase: Phase = { name: 'initial' };

  const first = (msg: Buffer): SaslStep => {
    const s = msg.toString('utf8');
    const m = /^([nyp])(=[^,]*)?,(a=[^,]*)?,(.*)$/s.exec(s);
    if (!m) return failure('malformed-request');
    if (m[1] === 'p') return failure('malformed-request', 'channel binding is not supported');
    const bare = m[4] ?? '';
    const a = attrs(bare);
    const rawUser = a?.get('n');
    const cnonce = a?.get('r');
    if (!a || rawUser === undefined || cnonce === undefined || cnonce === '' || bare.startsWith('m=')) {
      return failure('malformed-request');
    }
    const name = decodeSaslName(rawUser);
    if (name === null || name === '') return failure('malformed-request');
    const user = accountOf(name);
    if (user === null) return failure('not-authorized');
    if (m[3] && !authzidMatches(decodeSaslName(m[3].slice(2)) ?? '\u0000', user, ctx.host)) return failure('invalid-authzid');
    const rec = ctx.lookupUser(user);
    // An account without this hash's credential (imported pre-hashed) fails like an unknown user.
    const own = rec && (hash === 'sha256' ? rec.scramSha256 : rec.scramSha1);
    const cred = own ?? (hash === 'sha256' ? DUMMY_SHA256 : DUMMY_SHA1);
    const nonce = cnonce + ctx.nonce();
    const serverFirst = `r=${nonce},s=${cred.salt.toString('base64')},i=${cred.iterations}`;
    phase = {
      name: 'sent-first',
      user,
      known: !!own,
      cred,
      gs2: s.slice(0, s.length - bare.length),
      clientFirstBare: bare,
      serverFirst,
      nonce,
    };
    return { kind: 'challenge', data: Buffer.from(serverFirst, 'utf8') };
  };

  const final = (p: Extract<Phase, { name: 'sent-first' }>, msg: Buffer): SaslStep => {
    phase = { name: 'done' };
    const s = msg.toString('utf8');
    const a = attrs(s);
    const c = a?.get('c');
    const r = a?.get('r');
    const proofB64 = a?.get('p');
    if (!a || c === undefined || r === undefined || proofB64 === undefined || !s.endsWith(`,p=${proofB64}`)) {
      return failure('malformed-request');
    }
    if (Buffer.from(c, 'base64').toString('utf8') !== p.gs2) return failure('malformed-request', 'channel binding mismatch');
    if (r !== p.nonce) return failure('malformed-request', 'nonce mismatch');
    const withoutProof = s.slice(0, s.length - `,p=${proofB64}`.length);
    const authMessage = `${p.clientFirstBare},${p.serverFirst},${withoutProof}`;
    const clientSignature = hmac(hash, p.cred.storedKey, authMessage);
    const proof = Buffer.from(proofB64, 'base64');
    if (proof.length !== clientSignature.length) return failure('not-authorized');
    const clientKey = bufferXor(proof, clientSignature);
    const ok = safeEqual(h(hash, clientKey), p.cred.storedKey) && p.known;
    if (!ok) return failure('not-authorized');
    const serverSignature = hmac(hash, p.cred.serverKey, authMessage);
    return { kind: 'success', user: p.user, data: Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8') };
  };

  return {
    start(initial) {
      if (initial === null || initial.length === 0) return { kind: 'challenge', data: Buffer.alloc(0) };
      return first(initial);
    },
    step(response) {
      if (phase.name === 'initial') return first(response);
      if (phase.name === 'sent-first') return final(phase, response);
      return failure('malformed-request');
    },
  };
}
