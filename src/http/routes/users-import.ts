/**
 * POST /v1/hosts/{host}/users/import: create many users in one request (EMQX import_users).
 *
 * Body: the file `vigil user import` reads (src/auth/import-lines.ts), sent as text/csv,
 * application/x-ndjson, application/jsonl or text/plain: CSV `jid,password` lines or JSON lines,
 * which may carry pre-hashed SCRAM credentials instead of a password. A line names `user@{host}` or
 * just `user`. Answer 200 `{created, existing, invalid, lines: [{line, jid, status, code?, reason?}]}`
 * with one entry per account line, in order. Idempotent: an existing account is reported `existing`
 * and left unchanged, so a retried request creates nothing twice.
 *
 * Limits (config, docs/config.md): api.import_max_bytes (413 VIGIL_ERR_BODY_TOO_LARGE) and
 * api.import_max_lines (413 VIGIL_ERR_IMPORT_TOO_MANY_LINES), both checked before anything is
 * written. Hashing runs on the libuv pool a few accounts at a time (src/auth/import-users.ts), so
 * liveness timers and other requests are served during a long import.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { parseImportText } from '../../auth/import-lines.js';
import { type ImportResult, importUsers, resolveAccount } from '../../auth/import-users.js';
import type { JobLimiter } from '../../auth/job-limiter.js';
import type { CoreDeps } from '../../deps.js';
import { normaliseDomain } from '../../jid.js';
import { sendError } from '../error-handler.js';
import { AUTH_ERRORS, HostParams, errors } from '../schemas.js';

type Deps = Pick<CoreDeps, 'config' | 'store' | 'clock'>;

export const IMPORT_CONTENT_TYPES = ['text/csv', 'application/x-ndjson', 'application/jsonl', 'text/plain'] as const;

const ImportLine = Type.Object({
  line: Type.Integer({ description: 'Line number in the body, from 1' }),
  jid: Type.Union([Type.String(), Type.Null()], { description: 'The account as normalised (user@host), or as written when unreadable' }),
  status: Type.Union([Type.Literal('created'), Type.Literal('existing'), Type.Literal('invalid')]),
  code: Type.Optional(Type.String({ description: 'Why the line is invalid (docs/errors.md)' })),
  reason: Type.Optional(Type.String()),
});
const ImportReport = Type.Object({
  created: Type.Integer(),
  existing: Type.Integer(),
  invalid: Type.Integer(),
  lines: Type.Array(ImportLine),
});

/** Lines that carry an account (what api.import_max_lines counts), without parsing them. */
export function countImportEntries(text: string): number {
  let n = 0;
  for (let start = 0; start <= text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).trim();
    if (line !== '' && !line.startsWith('#')) n++;
    start = end + 1;
  }
  return n;
}

export function userImportRoutes(app: FastifyInstance, deps: Deps, knownHost: (host: string) => boolean, hashing: JobLimiter): void {
  const maxBytes = deps.config.api.import_max_bytes;
  const maxLines = deps.config.api.import_max_lines;
  // Own scope: text bodies are accepted here only (the rest of the API is JSON only).
  void app.register(async (scope) => {
    scope.addContentTypeParser([...IMPORT_CONTENT_TYPES], { parseAs: 'string', bodyLimit: maxBytes }, (_req, body, done) => done(null, body));
    scope.post<{ Params: Static<typeof HostParams>; Body: string }>(
      '/hosts/:host/users/import',
      {
        bodyLimit: maxBytes,
        schema: {
          summary: 'Import users: CSV jid,password or JSON lines (password or pre-hashed SCRAM); idempotent',
          description: `Body up to api.import_max_bytes (default ${maxBytes} here), at most api.import_max_lines accounts (${maxLines} here). Content types: ${IMPORT_CONTENT_TYPES.join(', ')}.`,
          tags: ['users'],
          params: HostParams,
          body: Type.String({ description: 'One account a line: jid,password (CSV) or a JSON object' }),
          consumes: [...IMPORT_CONTENT_TYPES],
          response: { 200: ImportReport, ...errors(400, ...AUTH_ERRORS, 404, 413, 415) },
        },
      },
      async (req, reply) => {
        const { host } = req.params;
        if (!knownHost(host)) return sendError(reply, 'VIGIL_ERR_UNKNOWN_HOST', host);
        const body = typeof req.body === 'string' ? req.body : '';
        const count = countImportEntries(body);
        if (count > maxLines) return sendError(reply, 'VIGIL_ERR_IMPORT_TOO_MANY_LINES', `${count} accounts, api.import_max_lines is ${maxLines}`);
        const lines: ImportResult[] = [];
        const own = normaliseDomain(host);
        const resolve = (jid: string) => resolveAccount(jid, (h) => (h === own ? null : `${h} is not this route's host ${host}`), own);
        const summary = await importUsers(parseImportText(body), { users: deps.store.users, clock: deps.clock }, {
          resolve,
          onResult: (r) => lines.push(r),
          limit: (job) => hashing.run(job),
        });
        req.log.info({ event: 'users_imported', host, ...summary }, 'users imported');
        return { ...summary, lines };
      },
    );
  });
}
