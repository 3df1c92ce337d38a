/**
 * One request to a gateway's REST API: its auth (Bearer token, an API-key header, or HTTP Basic),
 * a deadline (api.timeout_ms), a cap on the answer's size, JSON out. Failures are GatewayApiError
 * with the status when there was one. Credentials go in headers only, never in a URL or a log.
 */
export interface ApiAuth {
  token: string | null;
  /** Header the token goes in: `authorization` (as Bearer) or e.g. VerneMQ's `x-api-key`. */
  tokenHeader: 'authorization' | 'x-api-key';
  username: string | null;
  password: string | null;
}

export interface ApiTarget {
  /** Base URL without a trailing slash. */
  base: string;
  auth: ApiAuth;
  timeoutMs: number;
  /** Largest answer read, in bytes. */
  maxBytes: number;
}

export class GatewayApiError extends Error {
  constructor(
    readonly status: number | null,
    message: string,
  ) {
    super(message);
    this.name = 'GatewayApiError';
  }
}

function headers(auth: ApiAuth, body: boolean): Record<string, string> {
  const h: Record<string, string> = { accept: 'application/json' };
  if (body) h['content-type'] = 'application/json';
  if (auth.token !== null) h[auth.tokenHeader] = auth.tokenHeader === 'authorization' ? `Bearer ${auth.token}` : auth.token;
  else if (auth.username !== null) h.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64')}`;
  return h;
}

async function readCapped(res: Response, maxBytes: number): Promise<string> {
  const len = Number(res.headers.get('content-length') ?? 'NaN');
  if (len > maxBytes) throw new GatewayApiError(res.status, `answer of ${len} bytes is over the ${maxBytes} limit`);
  if (!res.body) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of res.body as AsyncIterable<Uint8Array>) {
    size += c.byteLength;
    if (size > maxBytes) throw new GatewayApiError(res.status, `answer over the ${maxBytes} byte limit`);
    chunks.push(Buffer.from(c));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `method path` against the target; resolves with the parsed JSON (null for an empty body) and
 * the status, for statuses in `ok` (default: 2xx). Others throw GatewayApiError.
 */
export async function request(
  t: ApiTarget,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
  ok: (status: number) => boolean = (s) => s >= 200 && s < 300,
): Promise<{ status: number; json: unknown }> {
  let res: Response;
  try {
    res = await fetch(`${t.base}${path}`, {
      method,
      headers: headers(t.auth, body !== undefined),
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(t.timeoutMs),
      redirect: 'error',
    });
  } catch (err) {
    const e = err as Error;
    throw new GatewayApiError(null, e.name === 'TimeoutError' ? `no answer within ${t.timeoutMs} ms` : `request failed: ${e.message}`);
  }
  const text = await readCapped(res, t.maxBytes).catch((err: unknown) => {
    throw err instanceof GatewayApiError ? err : new GatewayApiError(res.status, `answer unreadable: ${(err as Error).message}`);
  });
  if (!ok(res.status)) throw new GatewayApiError(res.status, `${method} ${path.split('?')[0]} answered ${res.status}`);
  if (text.trim() === '') return { status: res.status, json: null };
  try {
    return { status: res.status, json: JSON.parse(text) as unknown };
  } catch {
    throw new GatewayApiError(res.status, 'answer is not JSON');
  }
}
