/**
 * Hosts and their runtime liveness settings:
 *   GET   /v1/hosts                 hosts with settings and online counts per transport
 *   GET   /v1/hosts/{host}/config   current settings (+ persisted overrides)
 *   PATCH /v1/hosts/{host}/config   change settings; live timers re-armed by the registry, nothing
 *                                   dropped; `?persist=true` also stores them (survive restart)
 * Cluster mode: a PATCH applies on every node (stored in Redis, announced on the control stream,
 * adopted by nodes that join later); 503 VIGIL_ERR_CLUSTER_UNAVAILABLE when Redis cannot be reached.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ConfigValueError } from '../../config/dsl.js';
import type { LivenessHostConfig } from '../../liveness/types.js';
import type { HttpDeps } from '../app.js';
import { sendError } from '../error-handler.js';
import {
  type HostConfigPatch,
  fromOverrides,
  hostConfigPatchSchema,
  hostSettings,
  hostSettingsPartialSchema,
  hostSettingsSchema,
  toOverrides,
  validatePatch,
} from '../host-config.js';
import { AUTH_ERRORS, HostParams, errors } from '../schemas.js';

type Deps = Pick<HttpDeps, 'config' | 'liveness' | 'presence' | 'store' | 'logger' | 'cluster'>;

const Settings = Type.Unsafe<LivenessHostConfig>(hostSettingsSchema);
const Counts = Type.Object({ xmpp: Type.Integer(), mqtt: Type.Integer() });
const HostSummary = Type.Object({
  host: Type.String(),
  config: Settings,
  online: Counts,
  offline: Counts,
});
const HostConfigReply = Type.Object({
  host: Type.String(),
  config: Settings,
  persisted: Type.Union([Type.Unsafe<HostConfigPatch>(hostSettingsPartialSchema), Type.Null()], {
    description: 'Overrides stored with ?persist=true, applied over the file at startup',
  }),
});
const PatchQuery = Type.Object(
  { persist: Type.Boolean({ default: false, description: 'Also store the change so it survives a restart' }) },
  { additionalProperties: false },
);

export function knownHosts(deps: Pick<Deps, 'config' | 'liveness'>): string[] {
  return [...new Set([...Object.keys(deps.config.hosts), ...deps.liveness.hosts()])].sort();
}

export function hostRoutes(app: FastifyInstance, deps: Deps): void {
  const persisted = (host: string) => {
    const o = deps.store.hostConfig.get(host);
    if (!o) return null;
    try {
      return fromOverrides(o);
    } catch {
      return null;
    }
  };
  const reply = (host: string, config: LivenessHostConfig) => ({ host, config, persisted: persisted(host) });

  app.get(
    '/hosts',
    {
      schema: {
        summary: 'Hosts with their ping settings and counts per transport',
        tags: ['hosts'],
        response: { 200: Type.Object({ items: Type.Array(HostSummary) }), ...errors(...AUTH_ERRORS) },
      },
    },
    async () => ({
      items: knownHosts(deps).flatMap((host) => {
        const config = hostSettings(deps, host);
        if (!config) return [];
        const count = (state: 'online' | 'offline') => ({
          xmpp: deps.presence.count(host, 'xmpp', state),
          mqtt: deps.presence.count(host, 'mqtt', state),
        });
        return [{ host, config, online: count('online'), offline: count('offline') }];
      }),
    }),
  );

  app.get<{ Params: Static<typeof HostParams> }>(
    '/hosts/:host/config',
    {
      schema: {
        summary: "A host's runtime liveness settings",
        tags: ['hosts'],
        params: HostParams,
        response: { 200: HostConfigReply, ...errors(...AUTH_ERRORS, 404) },
      },
    },
    async (req, res) => {
      const config = hostSettings(deps, req.params.host);
      if (!config) return sendError(res, 'VIGIL_ERR_UNKNOWN_HOST', req.params.host);
      return reply(req.params.host, config);
    },
  );

  // The JSON schema validator coerces types (query strings need it), so "5" would pass as 5. The
  // body as the client sent it is kept here and checked strictly by the config DSL instead.
  const sentBodies = new WeakMap<object, Record<string, unknown>>();

  app.patch<{ Params: Static<typeof HostParams>; Querystring: Static<typeof PatchQuery>; Body: Record<string, unknown> }>(
    '/hosts/:host/config',
    {
      preValidation: async (req) => {
        if (req.body && typeof req.body === 'object') sentBodies.set(req, { ...req.body });
      },
      schema: {
        summary: "Change a host's liveness settings at runtime (timers re-armed, nothing dropped)",
        tags: ['hosts'],
        params: HostParams,
        querystring: PatchQuery,
        body: Type.Unsafe<HostConfigPatch>(hostConfigPatchSchema),
        response: { 200: HostConfigReply, ...errors(400, ...AUTH_ERRORS, 404, 503) },
      },
    },
    async (req, res) => {
      const { host } = req.params;
      if (!hostSettings(deps, host)) return sendError(res, 'VIGIL_ERR_UNKNOWN_HOST', host);
      let patch: HostConfigPatch;
      try {
        patch = validatePatch(sentBodies.get(req) ?? req.body);
      } catch (err) {
        if (!(err instanceof ConfigValueError)) throw err;
        const field = `body.${err.path.join('.')}`;
        return sendError(res, 'VIGIL_ERR_BAD_REQUEST', `${field}: ${err.message}`, { field });
      }
      if (deps.cluster) {
        // Cluster mode: stored in Redis and announced first, so either every node changes or none.
        try {
          await deps.cluster.publishHostSettings(host, patch);
        } catch (err) {
          req.log.warn({ event: 'cluster_write_failed', err: String(err) }, 'PATCH host config: Redis cannot be reached');
          return sendError(res, 'VIGIL_ERR_CLUSTER_UNAVAILABLE', 'the change was not applied on any node');
        }
      }
      const config = deps.liveness.setHostConfig(host, patch);
      if (req.query.persist) deps.store.hostConfig.put(host, toOverrides(patch, deps.store.hostConfig.get(host) ?? {}));
      req.log.info({ event: 'host_config_changed', host, patch, persist: req.query.persist }, 'host config changed');
      return reply(host, config);
    },
  );
}
