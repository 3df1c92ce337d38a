/**
 * Acting on connected endpoints, protocol-neutral through the liveness registry:
 *   DELETE /v1/hosts/{host}/endpoints/{transport}/{id}        kick: handle.kill('kicked'); the
 *          adapter closes the connection (XMPP stream error per ejabberd kick_session, MQTT v5
 *          DISCONNECT 0x98) and the table records reason `kicked`. A bare JID kicks every resource.
 *   POST   /v1/hosts/{host}/endpoints/{transport}/{id}/ping   probe now: 200 {rtt_ms}; 504 when no
 *          answer within ping_ack_timeout; 409 when the endpoint cannot be probed (why in message);
 *          404 when it is not connected or leaves meanwhile.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { EndpointKey, LivenessHandle, LivenessRegistry } from '../../liveness/types.js';
import type { PresenceTable } from '../../presence/types.js';
import type { HttpDeps } from '../deps.js';
import { sendError } from '../error-handler.js';
import { AUTH_ERRORS, EndpointParams, Transport, errors } from '../schemas.js';
import { endpointKey, resolveRows } from './endpoints.js';

type Deps = Pick<HttpDeps, 'hostSettings' | 'liveness' | 'presence'>;

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
  kicked: Type.Array(Type.Object({ transport: Transport, id: Type.String(), generation: Type.Integer() })),
});
const Pong = Type.Object({
  id: Type.String(),
  rtt_ms: Type.Number({ description: 'Round-trip time of the probe' }),
  answer: Type.Union([Type.Literal('pong'), Type.Literal('unsupported')], {
    description: 'unsupported = XEP-0199 service-unavailable: alive, does not support ping',
  }),
});

export function endpointActionRoutes(app: FastifyInstance, deps: Deps): void {
  app.delete<{ Params: Static<typeof EndpointParams> }>(
    '/hosts/:host/endpoints/:transport/:id',
    {
      schema: {
        summary: 'Kick: close the connection(s), reason kicked',
        tags: ['endpoints'],
        params: EndpointParams,
        response: { 200: Kicked, ...errors(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (req, reply) => {
      const { host } = req.params;
      if (!deps.hostSettings.get(host)) return sendError(reply, 'VIGIL_ERR_UNKNOWN_HOST', host);
      const key = endpointKey(req.params);
      const handles = liveHandles(deps, key);
      if (handles.length === 0) return sendError(reply, 'VIGIL_ERR_ENDPOINT_NOT_FOUND', `${key.transport} ${key.id} on ${host} is not connected`);
      const kicked = handles.map((h) => ({ transport: h.ref.transport, id: h.ref.id, generation: h.ref.generation }));
      for (const h of handles) h.kill('kicked');
      req.log.info({ event: 'endpoint_kicked', host, transport: key.transport, ids: kicked.map((k) => k.id) }, 'endpoint kicked');
      return { kicked };
    },
  );

  app.post<{ Params: Static<typeof EndpointParams> }>(
    '/hosts/:host/endpoints/:transport/:id/ping',
    {
      schema: {
        summary: 'Probe now and answer the round-trip time',
        tags: ['endpoints'],
        params: EndpointParams,
        response: { 200: Pong, ...errors(400, ...AUTH_ERRORS, 404, 409, 504) },
      },
    },
    async (req, reply) => {
      const { host } = req.params;
      if (!deps.hostSettings.get(host)) return sendError(reply, 'VIGIL_ERR_UNKNOWN_HOST', host);
      const key = endpointKey(req.params);
      const handles = liveHandles(deps, key);
      const [h] = handles;
      if (!h) return sendError(reply, 'VIGIL_ERR_ENDPOINT_NOT_FOUND', `${key.transport} ${key.id} on ${host} is not connected`);
      if (handles.length > 1) {
        return sendError(reply, 'VIGIL_ERR_ENDPOINT_AMBIGUOUS', handles.map((x) => x.ref.id).join(', '));
      }
      const result = await h.probeNow();
      switch (result.kind) {
        case 'answered':
          return { id: h.ref.id, rtt_ms: result.rttMs, answer: 'pong' as const };
        case 'unsupported':
          return { id: h.ref.id, rtt_ms: result.rttMs, answer: 'unsupported' as const };
        case 'timeout':
          return sendError(reply, 'VIGIL_ERR_PING_TIMEOUT', h.ref.id);
        case 'unprobeable':
          return sendError(reply, 'VIGIL_ERR_PING_UNPROBEABLE', result.why);
        case 'gone':
          return sendError(reply, 'VIGIL_ERR_ENDPOINT_NOT_FOUND', `${h.ref.id} disconnected during the probe`);
      }
    },
  );
}
