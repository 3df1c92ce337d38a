/**
 * Who may call /v1: a bearer token (RFC 6750 §2.1, auth.ts), or else a dashboard session cookie.
 * A request with an Authorization header is judged by it alone. Without one, the `vigil_session`
 * cookie must name a live session (401 VIGIL_ERR_SESSION_INVALID otherwise), and a change (any
 * method but GET/HEAD/OPTIONS) made under the cookie must also pass the CSRF check:
 *   1. `X-CSRF-Token` equal to the session's own token (synchronizer token, compared in constant
 *      time): another site can make the browser send the cookie but cannot read the token, which
 *      the page gets from GET /v1/session (same-origin only: no CORS headers are ever sent);
 *   2. and the request is same-origin: the host of `Origin` (sent by browsers on every
 *      POST/PATCH/DELETE) is the request's Host, or, without Origin, `Sec-Fetch-Site` is same-origin.
 * SameSite=Strict on the cookie is a third, independent layer.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerAuth, digest, tokenMatches } from '../auth.js';
import { sendError } from '../error-handler.js';
import { clearSessionCookie, readSessionCookie } from './cookie.js';
import type { Session, SessionStore } from './store.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Whether the request comes from a page of this server (RFC 6454 §7): the host and port of `Origin`
 * are the request's Host. The scheme is not compared: behind a TLS-terminating proxy the browser's
 * origin is https while this server sees http, and a page of the same host on the other scheme is
 * no stranger (whoever serves it controls the host).
 */
export function sameOrigin(request: Pick<FastifyRequest, 'headers' | 'host'>): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) {
    const site = request.headers['sec-fetch-site'];
    return site === undefined || site === 'same-origin' || site === 'none';
  }
  const m = /^https?:\/\/([^/]+)$/i.exec(origin);
  return m !== null && m[1]!.toLowerCase() === request.host.toLowerCase();
}

/** Whether the browser reached us over TLS: our own listener, or a page whose origin is https (a TLS proxy). */
export function overTls(request: Pick<FastifyRequest, 'headers' | 'protocol'>): boolean {
  return request.protocol === 'https' || /^https:/i.test(request.headers.origin ?? '');
}

/** The live session a request's cookie names, if any. */
export function sessionOf(request: Pick<FastifyRequest, 'headers'>, sessions: SessionStore): Session | undefined {
  const id = readSessionCookie(request.headers.cookie);
  return id === null ? undefined : sessions.get(id);
}

/** Whether a cookie-authenticated change carries the session's CSRF token from a same-origin page. */
export function csrfOk(request: Pick<FastifyRequest, 'headers' | 'host'>, session: Session): boolean {
  const presented = request.headers['x-csrf-token'];
  if (typeof presented !== 'string' || !tokenMatches(digest(session.csrfToken), presented)) return false;
  return sameOrigin(request);
}

/** The onRequest hook of every /v1 route but /v1/session. */
export function apiAuth(token: string, sessions: SessionStore) {
  const bearer = bearerAuth(token);
  return async function checkAuth(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    if (request.headers.authorization !== undefined || readSessionCookie(request.headers.cookie) === null) return bearer(request, reply);
    const session = sessionOf(request, sessions);
    if (!session) {
      reply.header('www-authenticate', 'Bearer realm="vigil"').header('set-cookie', clearSessionCookie(overTls(request)));
      return sendError(reply, 'VIGIL_ERR_SESSION_INVALID');
    }
    if (!SAFE_METHODS.has(request.method) && !csrfOk(request, session)) return sendError(reply, 'VIGIL_ERR_CSRF');
    return undefined;
  };
}
