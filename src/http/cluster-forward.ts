/**
 * Cluster mode, REST actions on an endpoint another node holds (kick, ping-now): forwarded to the
 * owner through src/cluster/commands.ts and answered as a local action would be; the owner not
 * answering within the host's ping_ack_timeout + 2 s gives 504 VIGIL_ERR_CLUSTER_FORWARD_TIMEOUT.
 * On a single node (no `cluster`) nothing here applies: `remoteRows` is empty.
 */
import type { FastifyReply } from 'fastify';
import type { EndpointKey, ProbeNowResult } from '../liveness/types.js';
import type { HttpDeps } from './deps.js';
import { sendError } from './error-handler.js';
import { resolveRows } from './routes/endpoints.js';

type Deps = Pick<HttpDeps, 'hostSettings' | 'presence' | 'cluster'>;

/** Online rows an `{id}` names that another node holds. */
export function remoteRows(deps: Deps, key: EndpointKey): EndpointKey[] {
  const me = deps.cluster?.nodeId;
  if (!me) return [];
  return resolveRows(deps.presence, key)
    .filter((r) => r.state === 'online' && r.node !== undefined && r.node !== me)
    .map((r) => ({ host: r.host, transport: r.transport, id: r.id }));
}

/** How long a forwarded action waits for the owner. */
function timeoutMs(deps: Deps, host: string): number {
  return (deps.hostSettings.get(host)?.ping_ack_timeout ?? 32) * 1000 + 2_000;
}

/** Kick remote rows; adds what the owners kicked to `kicked`. Returns a reply when nothing could be kicked. */
export async function kickRemote(
  deps: Deps,
  reply: FastifyReply,
  key: EndpointKey,
  remote: EndpointKey[],
  kicked: { transport: EndpointKey['transport']; id: string; generation: number }[],
): Promise<FastifyReply | null> {
  const cluster = deps.cluster;
  if (!cluster || remote.length === 0) return null;
  const answers = await Promise.all(remote.map((r) => cluster.commands.request(cluster.ownerOf(r) ?? '', { op: 'kick', key: r }, timeoutMs(deps, key.host))));
  for (const a of answers) if (a.kind === 'kicked') for (const k of a.ids) kicked.push({ transport: key.transport, id: k.id, generation: k.generation });
  if (kicked.length > 0) return null;
  if (answers.some((a) => a.kind === 'timeout')) return sendError(reply, 'VIGIL_ERR_CLUSTER_FORWARD_TIMEOUT', remote.map((r) => `${r.id} on ${cluster.ownerOf(r)}`).join(', '));
  return sendError(reply, 'VIGIL_ERR_ENDPOINT_NOT_FOUND', `${key.transport} ${key.id} on ${key.host} is not connected`);
}

/** Ping-now of one remote row: its id and result, or the reply already sent (timeout, gone). */
export async function pingRemote(deps: Deps, reply: FastifyReply, r: EndpointKey): Promise<{ id: string; result: ProbeNowResult } | FastifyReply> {
  const cluster = deps.cluster!;
  const owner = cluster.ownerOf(r) ?? '';
  const a = await cluster.commands.request(owner, { op: 'ping', key: r }, timeoutMs(deps, r.host));
  if (a.kind === 'timeout') return sendError(reply, 'VIGIL_ERR_CLUSTER_FORWARD_TIMEOUT', `${r.id} on ${owner}`);
  if (a.kind !== 'ping') return sendError(reply, 'VIGIL_ERR_ENDPOINT_NOT_FOUND', `${r.id} is not connected`);
  return { id: a.id, result: a.result };
}
