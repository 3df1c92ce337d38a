/**
 * Acting on connected endpoints, protocol-neutral through the liveness registry:
 *   DELETE /v1/hosts/{host}/endpoints/{transport}/{id}        kick: handle.kill('kicked'); the
 *          adapter closes the connection (XMPP stream error per ejabberd kick_session, MQTT v5
 *          DISCONNECT 0x98) and the table records reason `kicked`. A bare JID kicks every resource.
 *   POST   /v1/hosts/{host}/endpoints/{transport}/{id}/ping   probe now: 200 {rtt_ms}; 504 when no
 *          answer within ping_ack_timeout; 409 when the endpoint cannot be probed (why in message);
 *          404 when it is not connected or leaves meanwhile.
 * `?source=<gateway>` (or no local connection of that id) acts on a gateway row: gateway-rows.ts.
 * Cluster mode: an endpoint held by another node is acted on by its owner (../cluster-forward.ts),
 * with the same answers; 504 VIGIL_ERR_CLUSTER_FORWARD_TIMEOUT when the owner does not answer.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { EndpointKey, LivenessHandle, LivenessRegistry, ProbeNowResult } from '../../liveness/types.js';
import { LOCAL_SOURCE, type PresenceTable } from '../../presence/types.js';
import { kickRemote, pingRemote, remoteRows } from '../cluster-forward.js';
import type { HttpDeps } from '../deps.js';
import { sendError } from '../error-handler.js';
import { SourceQuery, checkSource, gatewayRows, kickGatewayRows, pingUnsupported } from '../gateway-rows.js';
import { AUTH_ERRORS, EndpointParams, Transport, errors } from '../schemas.js';
import { endpointKey, resolveRows } from './endpoints.js';

type Deps = Pick<HttpDeps, 'hostSettings' | 'liveness' | 'presence' | 'gateways' | 'cluster'>;

const ActionQuery = Type.Object({ source: SourceQuery }, { additionalProperties: false });
type Req = { Params: Static<typeof EndpointParams>; Querystring: Static<typeof ActionQuery> };

/** Live handles an `{id}` names (a bare JID: every connected resource). */
export function liveHandles(
  deps: { liveness: Pick<LivenessRegistry, 'get'>; presence: Pick<PresenceTable, 'get' | 'listByPrefix'> },
  key: EndpointKey,
): LivenessHandle[] {
  const direct = deps.liveness.get(key);
  if (direct?.live) return [direct];
  const out: LivenessHandle[] = [];
  for (const row of resolveRows(deps.presence, key)) {
    if (row.state !== 'online') continue;
    const h = deps.liveness.get(row);
    if (h?.live) out.push(h);
  }
  return out;
}

const Kicked = Type.Object({
  kicked: Type.Array(
    Type.Object({ transport: Transport, id: Type.String(), generation: Type.Integer(), source: Type.Optional(Type.String({ description: 'The gateway, for a gateway row' })) }),
  ),
});
const Pong = Type.Object({
  id: Type.String(),
  rtt_ms: Type.Number({ description: 'Round-trip time of the probe' }),
  answer: Type.Union([Type.Literal('pong'), Type.Literal('unsupported')], {
    description: 'unsupported = XEP-0199 service-unavailable: alive, does not support ping',
  }),
});

export function endpointActionRoutes(app: FastifyInstance, deps: Deps): void {
  app.delete<Req>(
    '/hosts/:host/endpoints/:transport/:id',
    {
      schema: {
        summary: 'Kick: close the connection(s), reason kicked (a gateway row: through its API, ?source=)',
        tags: ['endpoints'],
        params: EndpointParams,
        querystring: ActionQuery,
        response: { 200: Kicked, ...errors(400, ...AUTH_ERRORS, 404, 409, 502, 504) },
      },
    },
    async (req, reply) => {
      const { host } = req.params;
      if (!deps.hostSettings.get(host)) return sendError(reply, 'VIGIL_ERR_UNKNOWN_HOST', host);
      const { source } = req.query;
      if (!checkSource(reply, deps.gateways, source)) return reply;
      const key = endpointKey(req.params);
      const local = source === undefined || source === LOCAL_SOURCE;
      const handles = local ? liveHandles(deps, key) : [];
      const remote = local ? remoteRows(deps, key).filter((r) => !handles.some((h) => h.ref.id === r.id)) : [];
      if (handles.length === 0 && remote.length === 0) {
        const rows = source === LOCAL_SOURCE ? [] : gatewayRows(deps.presence, deps.gateways, key, source);
        if (rows.length > 0) return kickGatewayRows(reply, rows);
        return sendError(reply, 'VIGIL_ERR_ENDPOINT_NOT_FOUND', `${key.transport} ${key.id} on ${host} is not connected`);
      }
      // Cluster mode answers the cluster generation (the one presence shows), a single node its own.
      const generationOf = (h: LivenessHandle) => (deps.cluster ? (deps.presence.get(h.ref)?.generation ?? h.ref.generation) : h.ref.generation);
      const kicked = handles.map((h) => ({ transport: h.ref.transport, id: h.ref.id, generation: generationOf(h) }));
      for (const h of handles) h.kill('kicked');
      if (handles.length > 0) req.log.info({ event: 'endpoint_kicked', host, transport: key.transport, ids: kicked.map((k) => k.id) }, 'endpoint kicked');
      const failed = await kickRemote(deps, reply, key, remote, kicked);
      if (failed) return failed;
      return { kicked };
    },
  );

  app.post<Req>(
    '/hosts/:host/endpoints/:transport/:id/ping',
    {
      schema: {
        summary: 'Probe now and answer the round-trip time (not for gateway rows: 409)',
        tags: ['endpoints'],
        params: EndpointParams,
        querystring: ActionQuery,
        response: { 200: Pong, ...errors(400, ...AUTH_ERRORS, 404, 409, 504) },
      },
    },
    async (req, reply) => {
      const { host } = req.params;
      if (!deps.hostSettings.get(host)) return sendError(reply, 'VIGIL_ERR_UNKNOWN_HOST', host);
      const { source } = req.query;
      if (!checkSource(reply, deps.gateways, source)) return reply;
      const key = endpointKey(req.params);
      const local = source === undefined || source === LOCAL_SOURCE;
      const handles = local ? liveHandles(deps, key) : [];
      const remote = local && handles.length === 0 ? remoteRows(deps, key) : [];
      const count = handles.length + remote.length;
      if (count === 0) {
        const rows = source === LOCAL_SOURCE ? [] : gatewayRows(deps.presence, deps.gateways, key, source);
        if (rows.length > 0) return pingUnsupported(reply, rows);
        return sendError(reply, 'VIGIL_ERR_ENDPOINT_NOT_FOUND', `${key.transport} ${key.id} on ${host} is not connected`);
      }
      if (count > 1) {
        return sendError(reply, 'VIGIL_ERR_ENDPOINT_AMBIGUOUS', [...handles.map((x) => x.ref.id), ...remote.map((r) => r.id)].join(', '));
      }
      const h = handles[0];
      let id: string;
      let result: ProbeNowResult;
      if (h) {
        id = h.ref.id;
        result = await h.probeNow();
      } else {
        const forwarded = await pingRemote(deps, reply, remote[0]!);
        if (!('result' in forwarded)) return forwarded;
        ({ id, result } = forwarded);
      }
      switch (result.kind) {
        case 'answered':
          return { id, rtt_ms: result.rttMs, answer: 'pong' as const };
        case 'unsupported':
          return { id, rtt_ms: result.rttMs, answer: 'unsupported' as const };
        case 'timeout':
          return sendError(reply, 'VIGIL_ERR_PING_TIMEOUT', id);
        case 'unprobeable':
          return sendError(reply, 'VIGIL_ERR_PING_UNPROBEABLE', result.why);
        case 'gone':
          return sendError(reply, 'VIGIL_ERR_ENDPOINT_NOT_FOUND', `${id} disconnected during the probe`);
      }
    },
  );
}
