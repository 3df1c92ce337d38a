/**
 * Users of a host (XMPP localparts, MQTT usernames):
 *   GET    /v1/hosts/{host}/users            list
 *   POST   /v1/hosts/{host}/users            create {user, password} -> 201; 409 when it exists
 *   DELETE /v1/hosts/{host}/users/{user}     remove (and the roster) and end the user's XMPP and MQTT
 *                                            sessions, reason account_deleted -> 204; 404 when unknown
 *   POST   /v1/hosts/{host}/users/import     bulk create (users-import.ts, registered from here)
 * Names are normalised like a JID localpart (RFC 7622 §3.3, src/jid.ts); only SCRAM credentials are
 * stored (src/auth/users.ts), never the password. The two PBKDF2 runs of a new user go to the libuv
 * pool: on the event loop they held every socket and liveness timer for ~2 ms a user, so parallel
 * clients queued behind each other (issue 20). Bulk creation: users-import.ts.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { passwordProblem } from '../../auth/scram.js';
import { defaultImportJobs } from '../../auth/import-users.js';
import { createJobLimiter } from '../../auth/job-limiter.js';
import { makeUserRecordAsync } from '../../auth/users.js';
import { normaliseLocal } from '../../jid.js';
import type { HttpDeps } from '../deps.js';
import { endAccountSessions } from '../account-sessions.js';
import { sendError } from '../error-handler.js';
import { AUTH_ERRORS, HostParams, errors } from '../schemas.js';
import { userImportRoutes } from './users-import.js';

type Deps = Pick<HttpDeps, 'hostSettings' | 'config' | 'liveness' | 'presence' | 'store' | 'clock'>;

const User = Type.Object({ user: Type.String(), created_at: Type.Integer({ description: 'ms since the Unix epoch' }) });
const UserParams = Type.Object({ host: Type.String({ minLength: 1, maxLength: 1023 }), user: Type.String({ minLength: 1, maxLength: 1023 }) });
const NewUser = Type.Object(
  {
    user: Type.String({ minLength: 1, maxLength: 1023, description: 'Localpart / MQTT username' }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);

export function userRoutes(app: FastifyInstance, deps: Deps): void {
  // PBKDF2 runs of user creation (this route and the import), at most CPUs - 1 at once: the pool
  // keeps threads for logins and the machine a core for the event loop, however many clients post.
  const hashing = createJobLimiter(defaultImportJobs());
  userImportRoutes(app, deps, (host) => deps.hostSettings.get(host) !== undefined, hashing);
  app.get<{ Params: Static<typeof HostParams> }>(
    '/hosts/:host/users',
    {
      schema: {
        summary: 'Users of a host',
        tags: ['users'],
        params: HostParams,
        response: { 200: Type.Object({ items: Type.Array(User) }), ...errors(...AUTH_ERRORS, 404) },
      },
    },
    async (req, reply) => {
      const { host } = req.params;
      if (!deps.hostSettings.get(host)) return sendError(reply, 'VIGIL_ERR_UNKNOWN_HOST', host);
      return { items: deps.store.users.list(host).map((u) => ({ user: u.user, created_at: u.createdAt })) };
    },
  );

  app.post<{ Params: Static<typeof HostParams>; Body: Static<typeof NewUser> }>(
    '/hosts/:host/users',
    {
      schema: {
        summary: 'Create a user',
        tags: ['users'],
        params: HostParams,
        body: NewUser,
        response: { 201: User, ...errors(400, ...AUTH_ERRORS, 404, 409) },
      },
    },
    async (req, reply) => {
      const { host } = req.params;
      if (!deps.hostSettings.get(host)) return sendError(reply, 'VIGIL_ERR_UNKNOWN_HOST', host);
      const user = normaliseLocal(req.body.user);
      if (deps.store.users.get(host, user)) return sendError(reply, 'VIGIL_ERR_USER_EXISTS', user);
      const problem = passwordProblem(req.body.password);
      if (problem) return sendError(reply, 'VIGIL_ERR_BAD_PASSWORD', problem, { field: 'body.password' });
      const record = await makeUserRecordAsync(host, user, req.body.password, deps.clock, { limit: (job) => hashing.run(job) });
      // Another request may have created the same user while the hash ran: insert only if still new.
      if (!deps.store.users.createMany([record])[0]) return sendError(reply, 'VIGIL_ERR_USER_EXISTS', user);
      req.log.info({ event: 'user_created', host, user }, 'user created');
      return reply.code(201).send({ user, created_at: record.createdAt });
    },
  );

  app.delete<{ Params: Static<typeof UserParams> }>(
    '/hosts/:host/users/:user',
    {
      schema: {
        summary: 'Delete a user and their roster; their XMPP and MQTT sessions end (reason account_deleted)',
        tags: ['users'],
        params: UserParams,
        response: { 204: Type.Null(), ...errors(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (req, reply) => {
      const { host } = req.params;
      if (!deps.hostSettings.get(host)) return sendError(reply, 'VIGIL_ERR_UNKNOWN_HOST', host);
      const user = normaliseLocal(req.params.user);
      if (!deps.store.users.delete(host, user)) return sendError(reply, 'VIGIL_ERR_USER_NOT_FOUND', user);
      deps.store.rosters.clear(host, user);
      const ended = endAccountSessions(deps, host, user);
      req.log.info({ event: 'user_deleted', host, user, sessions_ended: ended.length }, 'user deleted');
      return reply.code(204).send();
    },
  );
}
