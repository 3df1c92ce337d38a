/**
 * One catalog of stable error codes (fastify's lib/errors.js discipline). Codes are public
 * interface: REST clients and log searches rely on them. docs/errors.md is checked against this
 * catalog by a test. Add codes here, never inline.
 */
export const errorCatalog = {
  VIGIL_ERR_CONFIG_INVALID: { status: 500, message: 'The configuration is invalid' },
  VIGIL_ERR_CONFIG_FILE: { status: 500, message: 'The configuration file cannot be read or parsed' },
  VIGIL_ERR_USER_EXISTS: { status: 409, message: 'The user already exists' },
  VIGIL_ERR_USER_NOT_FOUND: { status: 404, message: 'No such user' },
  VIGIL_ERR_BAD_JID: { status: 400, message: 'Not a valid JID' },
  VIGIL_ERR_BAD_PASSWORD: { status: 400, message: 'The password is not acceptable' },
  // User import (issue 20): per-line codes, and the limits of one REST import
  VIGIL_ERR_IMPORT_BAD_LINE: { status: 400, message: 'The import line cannot be read' },
  VIGIL_ERR_BAD_SCRAM: { status: 400, message: 'The SCRAM credential is not acceptable' },
  VIGIL_ERR_IMPORT_TOO_MANY_LINES: { status: 413, message: 'The import has too many lines' },
  VIGIL_ERR_UNKNOWN_HOST: { status: 404, message: 'No such host' },
  // REST API (issue 6)
  VIGIL_ERR_AUTH_MISSING: { status: 401, message: 'Missing bearer token (Authorization: Bearer <token>)' },
  VIGIL_ERR_AUTH_INVALID: { status: 403, message: 'Invalid bearer token' },
  VIGIL_ERR_BAD_REQUEST: { status: 400, message: 'Invalid request' },
  VIGIL_ERR_BAD_JSON: { status: 400, message: 'The request body is not valid JSON' },
  VIGIL_ERR_BODY_TOO_LARGE: { status: 413, message: 'The request body is too large' },
  VIGIL_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Unsupported content type' },
  VIGIL_ERR_ROUTE_NOT_FOUND: { status: 404, message: 'No such route' },
  VIGIL_ERR_METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed on this path' },
  VIGIL_ERR_INTERNAL: { status: 500, message: 'Internal error' },
  VIGIL_ERR_NOT_READY: { status: 503, message: 'Not ready' },
  VIGIL_ERR_ENDPOINT_NOT_FOUND: { status: 404, message: 'No such endpoint' },
  VIGIL_ERR_ENDPOINT_AMBIGUOUS: { status: 409, message: 'The bare JID has several resources; name a full JID' },
  VIGIL_ERR_PING_TIMEOUT: { status: 504, message: 'No answer to the ping within ping_ack_timeout' },
  VIGIL_ERR_PING_UNPROBEABLE: { status: 409, message: 'The endpoint cannot be probed' },
  VIGIL_ERR_FEED_GONE: { status: 410, message: 'Too far behind the change feed; take a new snapshot' },
  // Dashboard sessions (issue 18)
  VIGIL_ERR_LOGIN_FAILED: { status: 401, message: 'Wrong API token' },
  VIGIL_ERR_SESSION_INVALID: { status: 401, message: 'No valid session: the cookie is unknown or expired; log in again' },
  VIGIL_ERR_CSRF: { status: 403, message: 'Change refused: a cookie-authenticated change needs X-CSRF-Token and a same-origin request' },
  // Gateway mode (issue 19)
  VIGIL_ERR_GATEWAY_NOT_FOUND: { status: 404, message: 'No such gateway' },
  VIGIL_ERR_WEBHOOK_AUTH_MISSING: { status: 401, message: 'Missing webhook credentials (Authorization or X-Vigil-Signature)' },
  VIGIL_ERR_WEBHOOK_AUTH_INVALID: { status: 403, message: 'Invalid webhook credentials' },
  VIGIL_ERR_WEBHOOK_BAD_EVENT: { status: 400, message: 'Not an event this gateway kind sends' },
  VIGIL_ERR_GATEWAY_ACTION_UNSUPPORTED: { status: 409, message: 'The endpoint is a gateway row and its gateway cannot do this' },
  VIGIL_ERR_GATEWAY_API_FAILED: { status: 502, message: "The gateway's API failed" },
  // Cluster mode (issue 15)
  VIGIL_ERR_CLUSTER_FORWARD_TIMEOUT: { status: 504, message: 'The node holding the endpoint did not answer in time' },
  VIGIL_ERR_NOT_CLUSTERED: { status: 404, message: 'This node does not run in cluster mode' },
  VIGIL_ERR_CLUSTER_UNAVAILABLE: { status: 503, message: 'Redis cannot be reached' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorCatalog;

export class VigilError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    detail?: string,
  ) {
    const entry = errorCatalog[code];
    super(detail ? `${entry.message}: ${detail}` : entry.message);
    this.name = 'VigilError';
    this.status = entry.status;
  }
}
