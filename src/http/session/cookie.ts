/**
 * The one cookie of the dashboard session (RFC 6265). Reading: the first `vigil_session` pair of
 * the Cookie header whose value has the session id's shape. Writing: HttpOnly (no script reads
 * it), SameSite=Strict (no cross-site request carries it, RFC 6265bis §5.4.7), Path=/ (the page
 * and /v1 share it), Max-Age of the session, and Secure when the request came over TLS.
 * A few lines instead of a cookie library: one name, one value shape, no decoding needed.
 */
import { SESSION_ID_PATTERN } from './store.js';

export const SESSION_COOKIE = 'vigil_session';

/** The session id from a Cookie header, or null when there is none of the right shape. */
export function readSessionCookie(header: string | undefined): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    if (SESSION_ID_PATTERN.test(value)) return value;
  }
  return null;
}

/** Set-Cookie for a session id; `maxAgeS` 0 deletes the cookie. */
export function sessionCookie(id: string, maxAgeS: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Max-Age=${Math.max(0, Math.floor(maxAgeS))}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/** Set-Cookie that makes the browser forget the session cookie. */
export const clearSessionCookie = (secure: boolean) => sessionCookie('', 0, secure);
