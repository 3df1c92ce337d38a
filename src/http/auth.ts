/**
 * Bearer token check for every /v1 route (RFC 6750 §2.1 header form). Both sides are hashed to a
 * fixed length first so timingSafeEqual compares in constant time whatever the presented length.
 * Missing/malformed header -> 401 VIGIL_ERR_AUTH_MISSING with `WWW-Authenticate: Bearer`
 * (RFC 6750 §3); a wrong token -> 403 VIGIL_ERR_AUTH_INVALID.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './error-handler.js';

export const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function tokenMatches(expectedDigest: Buffer, presented: string): boolean {
  return timingSafeEqual(expectedDigest, digest(presented));
}

/** An onRequest hook that rejects requests without the right bearer token. */
export function bearerAuth(token: string) {
  if (token.length === 0) throw new Error('bearerAuth: empty API token');
  const expected = digest(token);
  // Async hooks must return the reply after sending, so fastify stops the chain.
  return async function checkBearer(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const header = request.headers.authorization;
    const m = header === undefined ? null : /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    if (!m) {
      reply.header('www-authenticate', 'Bearer realm="vigil"');
      return sendError(reply, 'VIGIL_ERR_AUTH_MISSING');
    }
    if (!tokenMatches(expected, m[1]!)) {
      reply.header('www-authenticate', 'Bearer realm="vigil", error="invalid_token"');
      return sendError(reply, 'VIGIL_ERR_AUTH_INVALID');
    }
    return undefined;
  };
}
