/**
 * Dashboard login, for browsers (EventSource cannot send an Authorization header):
 *   POST   /v1/session {"token": "..."}  -> 200 {csrf_token, expires_at} + Set-Cookie vigil_session
 *                                           (401 VIGIL_ERR_LOGIN_FAILED for a wrong token)
 *   GET    /v1/session                   -> the same body for the cookie's session (the page asks
 *                                           after a reload; 401 VIGIL_ERR_SESSION_INVALID if none)
 *   DELETE /v1/session                   -> 204, session ended, cookie cleared (needs X-CSRF-Token)
 * The token travels only in the POST body, never in a URL; it is compared in constant time like the
 * bearer token, and the cookie holds a random session id, never the token (session/store.ts).
 * These routes sit outside the /v1 auth hook: they check what they need themselves.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Metrics } from '../../metrics.js';
import { digest, tokenMatches } from '../auth.js';
import { sendError } from '../error-handler.js';
import { errors } from '../schemas.js';
import { clearSessionCookie, readSessionCookie, sessionCookie } from '../session/cookie.js';
import { csrfOk, overTls, sameOrigin, sessionOf } from '../session/guard.js';
import type { Session, SessionStore } from '../session/store.js';

const Login = Type.Object({ token: Type.String({ minLength: 1, maxLength: 4096, description: 'The REST API token' }) }, { additionalProperties: false });
const SessionReply = Type.Object({
  csrf_token: Type.String({ description: 'Send as X-CSRF-Token on every POST/PATCH/DELETE made with the cookie' }),
  expires_at: Type.Integer({ description: 'When the session ends (ms since the Unix epoch)' }),
});
const SECURITY_COOKIE = [{ session: [] }];

const body = (s: Session) => ({ csrf_token: s.csrfToken, expires_at: s.expiresAt });

export function sessionRoutes(app: FastifyInstance, deps: { apiToken: string; sessions: SessionStore; metrics: Metrics; clock: { now(): number } }): void {
  const expected = digest(deps.apiToken);
  const logins = deps.metrics.counter('vigil_http_logins_total', 'Dashboard logins (POST /v1/session) by result', ['result'] as const);
  const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

  app.post<{ Body: Static<typeof Login> }>(
    '/session',
    {
      schema: {
        summary: 'Log in: trade the API token for a session cookie (HttpOnly, SameSite=Strict)',
        tags: ['session'],
        body: Login,
        security: [],
        response: { 200: SessionReply, ...errors(400, 401, 403) },
      },
    },
    async (req, reply) => {
      noStore(reply);
      if (!sameOrigin(req)) {
        logins.inc({ result: 'cross_origin' });
        return sendError(reply, 'VIGIL_ERR_CSRF', 'login from another origin');
      }
      if (!tokenMatches(expected, req.body.token)) {
        logins.inc({ result: 'wrong_token' });
        req.log.warn({ event: 'dashboard_login_failed' }, 'dashboard login with a wrong token');
        reply.header('www-authenticate', 'Bearer realm="vigil"');
        return sendError(reply, 'VIGIL_ERR_LOGIN_FAILED');
      }
      const s = deps.sessions.create();
      logins.inc({ result: 'ok' });
      req.log.info({ event: 'dashboard_login', sessions: deps.sessions.size }, 'dashboard session opened');
      reply.header('set-cookie', sessionCookie(s.id, (s.expiresAt - deps.clock.now()) / 1000, overTls(req)));
      return body(s);
    },
  );

  app.get(
    '/session',
    {
      schema: {
        summary: "The cookie's session: its CSRF token and expiry",
        tags: ['session'],
        security: SECURITY_COOKIE,
        response: { 200: SessionReply, ...errors(401) },
      },
    },
    async (req, reply) => {
      noStore(reply);
      const s = sessionOf(req, deps.sessions);
      if (!s) return sendError(reply, 'VIGIL_ERR_SESSION_INVALID');
      return body(s);
    },
  );

  app.delete(
    '/session',
    {
      schema: {
        summary: 'Log out: end the session and clear the cookie',
        tags: ['session'],
        security: SECURITY_COOKIE,
        response: { 204: Type.Null({ description: 'Logged out (also when there was no session)' }), ...errors(403) },
      },
    },
    async (req, reply) => {
      noStore(reply);
      const s = sessionOf(req, deps.sessions);
      if (s && !csrfOk(req, s)) return sendError(reply, 'VIGIL_ERR_CSRF');
      const id = readSessionCookie(req.headers.cookie);
      if (id !== null) deps.sessions.delete(id);
      if (s) req.log.info({ event: 'dashboard_logout' }, 'dashboard session closed');
      return reply.code(204).header('set-cookie', clearSessionCookie(overTls(req))).send();
    },
  );
}
