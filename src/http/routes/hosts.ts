/**
 * Hosts and their runtime liveness settings:
 *   GET   /v1/hosts                 hosts with settings and online counts per transport
 *   GET   /v1/hosts/{host}/config   current settings (+ persisted overrides)
 *   PATCH /v1/hosts/{host}/config   change settings; live timers re-armed by the registry, nothing
 *                                   dropped; `?persist=true` also stores them (survive restart)
 * Cluster mode: the host settings table is the cluster's (src/cluster/host-settings.ts): a PATCH
 * applies on every node; 503 VIGIL_ERR_CLUSTER_UNAVAILABLE (nothing changed) when Redis is away.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ConfigValueError } from '../../config/dsl.js';
import { jsonSchemaOf } from '../../config/json-schema.js';
import { type HostSettings, type HostSettingsPatch, hostSettingsSchema, parseHostSettingsPatch } from '../../host-settings.js';
import type { HttpDeps } from '../deps.js';
import { sendError } from '../error-handler.js';
import { AUTH_ERRORS, HostParams, errors } from '../schemas.js';

type Deps = Pick<HttpDeps, 'hostSettings' | 'presence'>;

/** Request and response schemas from the settings' own option declarations (ranges, enums, docs). */
const NAMES = Object.keys(hostSettingsSchema.fields);
const PROPERTIES = Object.fromEntries(Object.entries(hostSettingsSchema.fields).map(([name, opt]) => [name, jsonSchemaOf(opt)]));
/** PATCH body: any subset of the settings, at least one, nothing else. */
const PatchBody = Type.Unsafe<HostSettingsPatch>({ type: 'object', additionalProperties: false, minProperties: 1, properties: PROPERTIES });
/** Stored overrides: some settings. */
const Overrides = Type.Unsafe<HostSettingsPatch>({ type: 'object', additionalProperties: false, properties: PROPERTIES });
/** The full settings of a host. */
const Settings = Type.Unsafe<HostSettings>({ type: 'object', additionalProperties: false, required: NAMES, properties: PROPERTIES });

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
  persisted: Type.Union([Overrides, Type.Null()], {
    description: 'Overrides stored with ?persist=true, applied over the file at startup',
  }),
});
const PatchQuery = Type.Object(
  { persist: Type.Boolean({ default: false, description: 'Also store the change so it survives a restart' }) },
  { additionalProperties: false },
);

export function hostRoutes(app: FastifyInstance, deps: Deps): void {
  const reply = (host: string, config: HostSettings) => ({ host, config, persisted: deps.hostSettings.persisted(host) });

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
      items: Object.entries(deps.hostSettings.all()).map(([host, config]) => {
        const count = (state: 'online' | 'offline') => ({
          xmpp: deps.presence.count(host, 'xmpp', state),
          mqtt: deps.presence.count(host, 'mqtt', state),
        });
        return { host, config, online: count('online'), offline: count('offline') };
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
      const config = deps.hostSettings.get(req.params.host);
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
        body: PatchBody,
        response: { 200: HostConfigReply, ...errors(400, ...AUTH_ERRORS, 404, 503) },
      },
    },
    async (req, res) => {
      const { host } = req.params;
      if (!deps.hostSettings.get(host)) return sendError(res, 'VIGIL_ERR_UNKNOWN_HOST', host);
      let patch: HostSettingsPatch;
      try {
        patch = parseHostSettingsPatch(sentBodies.get(req) ?? req.body);
      } catch (err) {
        if (!(err instanceof ConfigValueError)) throw err;
        const field = `body.${err.path.join('.')}`;
        return sendError(res, 'VIGIL_ERR_BAD_REQUEST', `${field}: ${err.message}`, { field });
      }
      const config = await deps.hostSettings.change(host, patch, { persist: req.query.persist });
      req.log.info({ event: 'host_config_changed', host, patch, persist: req.query.persist }, 'host config changed');
      return reply(host, config);
    },
  );
}
