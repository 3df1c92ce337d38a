/**
 * Acting on connected endpoints, protocol-neutral through the liveness registry:
 *   DELETE /v1/hosts/{host}/endpoints/{transport}/{id}        kick: handle.kill('kicked'); the
 *          adapter closes the connection (XMPP stream error per ejabberd kick_session, MQTT v5
 *          DISCONNECT 0x98) and the table records reason `kicked`. A bare JID kicks every resource.
 *   POST   /v1/hosts/{host}/endpoints/{transport}/{id}/ping   probe now: 200 {rtt_ms}; 504 when no
 *          answer within ping_ack_timeout; 409 when the endpoint cannot be probed (why in message);
 *          404 when it is not connected or leaves meanwhile.
 * Cluster mode: an endpoint held by another node is acted on by its owner (src/cluster/commands.ts),
 * with the same answers; 504 VIGIL_ERR_CLUSTER_FORWARD_TIMEOUT when the owner does not answer.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ForwardResult } from '../../cluster/commands.js';
import type { EndpointKey, LivenessHandle, LivenessRegistry, ProbeNowResult } from '../../liveness/types.js';
import type { PresenceTable } from '../../presence/types.js';
import type { HttpDeps } from '../deps.js';
import { sendError } from '../error-handler.js';
import { AUTH_ERRORS, EndpointParams, Transport, errors } from '../schemas.js';
import { endpointKey, resolveRows } from './endpoints.js';

type Deps = Pick<HttpDeps, 'hostSettings' | 'liveness' | 'presence' | 'cluster'>;

/** Cluster mode: online rows an `{id}` names that another node holds (acted on by forwarding). */
function remoteRows(deps: Deps, key: EndpointKey): EndpointKey[] {
  const me = deps.cluster?.nodeId;
  if (!me) return [];
  return resolveRows(deps.presence, key)
    .filter((r) => r.state === 'online' && r.node !== undefined && r.node !== me)
    .map((r) => ({ host: r.host, transport: r.transport, id: r.id }));
}

/** How long a forwarded action waits for the owner: the host's ping_ack_timeout plus a margin. */
function forwardTimeoutMs(deps: Deps, host: string): number {
  return (deps.hostSettings.get(host)?.ping_ack_timeout ?? 32) * 1000 + 2_000;
}

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
        response: { 200: Kicked, ...errors(400, ...AUTH_ERRORS, 404, 504) },
      },
    },
    async (req, reply) => {
      const { host } = req.params;
      if (!deps.hostSettings.get(host)) return sendError(reply, 'VIGIL_ERR_UNKNOWN_HOST', host);
      const key = endpointKey(req.params);
      const handles = liveHandles(deps, key);
      const remote = remoteRows(deps, key).filter((r) => !handles.some((h) => h.ref.id === r.id));
      if (handles.length === 0 && remote.length === 0) return sendError(reply, 'VIGIL_ERR_ENDPOINT_NOT_FOUND', `${key.transport} ${key.id} on ${host} is not connected`);
      // Cluster mode answers the cluster generation (the one presence shows), a single node its own.
      const generationOf = (h: LivenessHandle) => (deps.cluster ? (deps.presence.get(h.ref)?.generation ?? h.ref.generation) : h.ref.generation);
      const kicked = handles.map((h) => ({ transport: h.ref.transport, id: h.ref.id, generation: generationOf(h) }));
      for (const h of handles) h.kill('kicked');
      if (handles.length > 0) req.log.info({ event: 'endpoint_kicked', host, transport: key.transport, ids: kicked.map((k) => k.id) }, 'endpoint kicked');
      const cluster = deps.cluster;
      if (cluster && remote.length > 0) {
        const answers = await Promise.all(
          remote.map((r) => cluster.commands.request(cluster.ownerOf(r) ?? '', { op: 'kick', key: r }, forwardTimeoutMs(deps, host))),
        );
        for (const a of answers) if (a.kind === 'kicked') for (const k of a.ids) kicked.push({ transport: key.transport, id: k.id, generation: k.generation });
        if (kicked.length === 0) {
          if (answers.some((a) => a.kind === 'timeout')) return sendError(reply, 'VIGIL_ERR_CLUSTER_FORWARD_TIMEOUT', remote.map((r) => `${r.id} on ${cluster.ownerOf(r)}`).join(', '));
          return sendError(reply, 'VIGIL_ERR_ENDPOINT_NOT_FOUND', `${key.transport} ${key.id} on ${host} is not connected`);
        }
      }
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
      const remote = handles.length === 0 ? remoteRows(deps, key) : [];
      const count = handles.length + remote.length;
      if (count === 0) return sendError(reply, 'VIGIL_ERR_ENDPOINT_NOT_FOUND', `${key.transport} ${key.id} on ${host} is not connected`);
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
        const r = remote[0]!;
        const cluster = deps.cluster!;
        const owner = cluster.ownerOf(r) ?? '';
        const a: ForwardResult = await cluster.commands.request(owner, { op: 'ping', key: r }, forwardTimeoutMs(deps, host));
        if (a.kind === 'timeout') return sendError(reply, 'VIGIL_ERR_CLUSTER_FORWARD_TIMEOUT', `${r.id} on ${owner}`);
        if (a.kind !== 'ping') return sendError(reply, 'VIGIL_ERR_ENDPOINT_NOT_FOUND', `${r.id} is not connected`);
        id = a.id;
        result = a.result;
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
