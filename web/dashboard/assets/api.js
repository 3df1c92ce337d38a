// REST calls of the page: same-origin fetch with the session cookie; every change carries the
// session's CSRF token (X-CSRF-Token). A 401 anywhere means the session ended: the page logs out.

const session = { csrf: '', onLost: () => {} };

/** @param {(reason: string) => void} fn called once a request finds the session gone */
export function onSessionLost(fn) {
  session.onLost = fn;
}

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<{ ok: boolean, status: number, json: any }>}
 */
export async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = session.csrf;
  let res;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    return { ok: false, status: 0, json: { code: 'NETWORK', message: `Vigil is not reachable (${err.message})` } };
  }
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = { code: 'BAD_REPLY', message: text.slice(0, 200) };
  }
  if (res.status === 401 && !path.startsWith('/v1/session')) session.onLost(json?.code ?? 'unauthorised');
  return { ok: res.ok, status: res.status, json };
}

/** The session of this browser, if any: keeps its CSRF token. */
export async function resumeSession() {
  const r = await api('GET', '/v1/session');
  if (r.ok) session.csrf = r.json.csrf_token;
  return r.ok;
}

/** Log in with the API token (sent once, in the body). Answers null or an error message. */
export async function login(token) {
  const r = await api('POST', '/v1/session', { token });
  if (r.ok) {
    session.csrf = r.json.csrf_token;
    return null;
  }
  if (r.status === 401) return 'Wrong token.';
  return r.json?.message ?? `Login failed (HTTP ${r.status}).`;
}

export async function logout() {
  await api('DELETE', '/v1/session');
  session.csrf = '';
}

export const enc = encodeURIComponent;
