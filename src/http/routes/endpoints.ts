/**
 * Reading the presence table:
 *   GET /v1/hosts/{host}/endpoints?transport=&source=&via=&state=&liveness=&q=&limit=&cursor=   paged list
 * (`q`: the id contains it, ignoring case; a rare match scans the host's rows, ~ms per 100k)
 *   GET /v1/hosts/{host}/endpoints/{transport}/{id}?source=                             one endpoint
 * `source` is `local` or a gateway's name (gateway-rows.ts); a read without it covers every source.
 * `{id}` is URL-encoded. For XMPP a bare JID (no resource) answers every resource of it
 * (presence.listByPrefix); a full JID or an MQTT client id answers that endpoint only. MQTT session
 * figures (inflight, queue, drops, expiry) come in `meta` from the table's figures provider.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { normaliseJid } from '../../jid.js';
import type { EndpointKey, Transport } from '../../liveness/types.js';
import { LOCAL_SOURCE, type PresenceTable, type PresenceView } from '../../presence/types.js';
import type { HttpDeps } from '../deps.js';
import { sendError } from '../error-handler.js';
import { SourceQuery, allSources, checkSource, rowsInSources } from '../gateway-rows.js';
import { AUTH_ERRORS, EndpointParams, HostParams, LivenessStateSchema, Transport as TransportSchema, ViaSchema, errors } from '../schemas.js';

type Deps = Pick<HttpDeps, 'hostSettings' | 'liveness' | 'presence' | 'gateways'>;

export const MAX_PAGE = 1000;

const ListQuery = Type.Object(
  {
    transport: Type.Optional(TransportSchema),
    source: SourceQuery,
    via: Type.Optional(ViaSchema),
    state: Type.Optional(Type.Union([Type.Literal('online'), Type.Literal('offline')])),
    liveness: Type.Optional(LivenessStateSchema),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Text search: the JID or client id contains it, ignoring case' })),
    limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 100 }),
    cursor: Type.Optional(Type.String({ pattern: '^[0-9A-Za-z_-]{1,64}$', description: 'next_cursor of the previous page' })),
  },
  { additionalProperties: false },
);

const Page = Type.Object({
  items: Type.Array(Type.Ref('PresenceView')),
  next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as cursor for the next page; null at the end' }),
});

/**
 * The endpoint key a request names. XMPP ids are normalised (RFC 7622, src/jid.ts) so
 * `Alice@Example.com/Phone` finds `alice@example.com/Phone`; a malformed JID throws JidError (400).
 */
export function endpointKey(params: { host: string; transport: Transport; id: string }): EndpointKey {
  const id = params.transport === 'xmpp' ? normaliseJid(params.id) : params.id;
  return { host: params.host, transport: params.transport, id };
}

/** Vigil's own rows an `{id}` names: the exact endpoint, or for an XMPP bare JID all its resources. */
export function resolveRows(presence: Pick<PresenceTable, 'get' | 'listByPrefix'>, key: EndpointKey): PresenceView[] {
  return rowsInSources(presence, key, [LOCAL_SOURCE]);
}

const OneQuery = Type.Object({ source: SourceQuery }, { additionalProperties: false });

export function endpointRoutes(app: FastifyInstance, deps: Deps): void {
  app.get<{ Params: Static<typeof HostParams>; Querystring: Static<typeof ListQuery> }>(
    '/hosts/:host/endpoints',
    {
      schema: {
        summary: 'Endpoints of a host, paged in connection order',
        tags: ['endpoints'],
        params: HostParams,
        querystring: ListQuery,
        response: { 200: Page, ...errors(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (req, reply) => {
      const { host } = req.params;
      if (!deps.hostSettings.get(host)) return sendError(reply, 'VIGIL_ERR_UNKNOWN_HOST', host);
      const { transport, source, via, state, liveness, q, limit, cursor } = req.query;
      if (!checkSource(reply, deps.gateways, source)) return reply;
      const filter = {
        ...(transport ? { transport } : {}),
        ...(source ? { source } : {}),
        ...(via ? { via } : {}),
        ...(state ? { state } : {}),
        ...(liveness ? { liveness } : {}),
        ...(q ? { q } : {}),
      };
      return deps.presence.list(host, filter, limit, cursor ?? null);
    },
  );

  app.get<{ Params: Static<typeof EndpointParams>; Querystring: Static<typeof OneQuery> }>(
    '/hosts/:host/endpoints/:transport/:id',
    {
      schema: {
        summary: 'One endpoint (an XMPP bare JID: all its resources), in every source unless ?source=',
        tags: ['endpoints'],
        params: EndpointParams,
        querystring: OneQuery,
        response: { 200: Type.Object({ items: Type.Array(Type.Ref('PresenceView')) }), ...errors(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (req, reply) => {
      const { host } = req.params;
      if (!deps.hostSettings.get(host)) return sendError(reply, 'VIGIL_ERR_UNKNOWN_HOST', host);
      const { source } = req.query;
      if (!checkSource(reply, deps.gateways, source)) return reply;
      const key = endpointKey(req.params);
      const items = rowsInSources(deps.presence, key, source !== undefined ? [source] : allSources(deps.gateways));
      if (items.length === 0) return sendError(reply, 'VIGIL_ERR_ENDPOINT_NOT_FOUND', `${key.transport} ${key.id} on ${host}`);
      return { items };
    },
  );
}
