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
  VIGIL_ERR_UNKNOWN_HOST: { status: 404, message: 'No such host' },
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
