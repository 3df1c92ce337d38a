/**
 * How the REST API answers errors: always `{code, message}` from the catalog (src/errors.ts) with
 * the catalog's status. Fastify's own errors (schema validation, bad JSON, body too large, unknown
 * route) are mapped to catalog codes here, so no client ever sees a fastify-internal code. A known
 * path with a wrong method gets 405 with `Allow` (method-not-allowed.ts), an unknown path 404.
 * A 400 names the offending field (`body.ping_interval`, `query.limit`) in `field` and `message`.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, VigilError } from '../errors.js';
import { trackRoutes } from './method-not-allowed.js';

export interface ErrorBody {
  code: string;
  message: string;
  field?: string;
  oldest_seq?: number;
  last_seq?: number;
}

/** Send a catalog error. `extra` adds documented fields (e.g. the feed's oldest_seq on 410). */
export function sendError(
  reply: FastifyReply,
  code: ErrorCode,
  detail?: string,
  extra: Omit<ErrorBody, 'code' | 'message'> = {},
): FastifyReply {
  const err = new VigilError(code, detail);
  return reply.code(err.status).send({ code, message: err.message, ...extra });
}

interface AjvIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

const PART: Record<string, string> = { querystring: 'query', body: 'body', params: 'params', headers: 'headers' };

/** The dotted name of the first invalid field of a fastify validation error, and what was wrong. */
export function describeValidation(err: FastifyError): { field: string; problem: string } {
  const part = PART[err.validationContext ?? ''] ?? err.validationContext ?? 'request';
  const first = (err.validation?.[0] ?? {}) as AjvIssue;
  const segments = (first.instancePath ?? '').split('/').filter(Boolean);
  const params = first.params ?? {};
  const named = params['missingProperty'] ?? params['additionalProperty'];
  if (typeof named === 'string') segments.push(named);
  const field = [part, ...segments].join('.');
  let problem = first.message ?? 'is invalid';
  if (first.keyword === 'additionalProperties') problem = 'is not a known field';
  else if (first.keyword === 'required') problem = 'is required';
  else if (first.keyword === 'enum' && Array.isArray(params['allowedValues'])) {
    problem = `must be one of ${(params['allowedValues'] as unknown[]).join(' | ')}`;
  }
  return { field, problem };
}

/** Map fastify's internal errors to catalog codes. */
function codeOf(err: FastifyError): ErrorCode {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'VIGIL_ERR_BODY_TOO_LARGE';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'VIGIL_ERR_UNSUPPORTED_MEDIA_TYPE';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return 'VIGIL_ERR_BAD_JSON';
    default:
      if (err instanceof SyntaxError) return 'VIGIL_ERR_BAD_JSON';
      if (err.statusCode === 413) return 'VIGIL_ERR_BODY_TOO_LARGE';
      if (err.statusCode === 415) return 'VIGIL_ERR_UNSUPPORTED_MEDIA_TYPE';
      if (err.statusCode === 404) return 'VIGIL_ERR_ROUTE_NOT_FOUND';
      // Any other client error fastify raises (bad Content-Length, malformed URL, ...).
      if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) return 'VIGIL_ERR_BAD_REQUEST';
      return 'VIGIL_ERR_INTERNAL';
  }
}

export function installErrorHandlers(app: FastifyInstance, onLimit: (limit: string) => void = () => undefined): void {
  const routes = trackRoutes(app);
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof VigilError) return reply.code(err.status).send({ code: err.code, message: err.message });
    if (err.validation) {
      const { field, problem } = describeValidation(err);
      return sendError(reply, 'VIGIL_ERR_BAD_REQUEST', `${field} ${problem}`, { field });
    }
    const code = codeOf(err);
    if (code === 'VIGIL_ERR_BODY_TOO_LARGE') onLimit('max_body_bytes');
    if (code === 'VIGIL_ERR_INTERNAL') request.log.error({ event: 'http_internal_error', err }, 'request failed');
    return sendError(reply, code);
  });
  app.setNotFoundHandler((request, reply) => {
    const what = `${request.method} ${request.url.split('?')[0]}`;
    const allow = routes.allowed(request.url);
    // No route for the path, or a route that took the method and found nothing (reply.callNotFound()).
    if (allow.length === 0 || allow.includes(request.method)) return sendError(reply, 'VIGIL_ERR_ROUTE_NOT_FOUND', what);
    reply.header('allow', allow.join(', '));
    return sendError(reply, 'VIGIL_ERR_METHOD_NOT_ALLOWED', `${what}; allowed: ${allow.join(', ')}`);
  });
}
