/**
 * REST on rows ingested from gateways (decision 2: `source: <gateway name>`, `source: local` for
 * Vigil's own clients). `?source=` names the id namespace; without it, reads cover every source
 * and actions go to Vigil's own connection first. A gateway row has no liveness handle: kick
 * goes through the gateway's API where the kind has one and `api` is configured (EMQX DELETE
 * /api/v5/clients/{id}, VerneMQ session/disconnect, ejabberd kick_session), ping-now never (no
 * gateway pings a client for Vigil); otherwise 409 VIGIL_ERR_GATEWAY_ACTION_UNSUPPORTED.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import type { Gateway } from '../gateway/gateway.js';
import type { Gateways } from '../gateway/service.js';
import type { EndpointKey } from '../liveness/types.js';
import { LOCAL_SOURCE, type PresenceKey, type PresenceTable, type PresenceView } from '../presence/types.js';
import { sendError } from './error-handler.js';

export const SourceQuery = Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$', description: 'local, or a gateway name (docs/gateways.md)' }));

/** Every source a read without ?source= covers: Vigil's own rows first, then each gateway's. */
export function allSources(gateways: Gateways | undefined): string[] {
  return [LOCAL_SOURCE, ...(gateways?.list().map((g) => g.name) ?? [])];
}

/** Answers 404 and returns false when `?source=` names neither local nor a configured gateway. */
export function checkSource(reply: FastifyReply, gateways: Gateways | undefined, source: string | undefined): boolean {
  if (source === undefined || source === LOCAL_SOURCE || gateways?.get(source)) return true;
  sendError(reply, 'VIGIL_ERR_GATEWAY_NOT_FOUND', `source ${source}`);
  return false;
}

/** Rows an `{id}` names in each source: the exact endpoint, or for an XMPP bare JID all its resources. */
export function rowsInSources(presence: Pick<PresenceTable, 'get' | 'listByPrefix'>, key: EndpointKey, sources: readonly string[]): PresenceView[] {
  const out: PresenceView[] = [];
  for (const source of sources) {
    const k: PresenceKey = { ...key, source };
    const exact = presence.get(k);
    if (exact) out.push(exact);
    else if (key.transport === 'xmpp' && !key.id.includes('/')) out.push(...presence.listByPrefix(key.host, 'xmpp', key.id, source));
  }
  return out;
}

/** Online gateway rows an `{id}` names (one gateway with ?source=, else all), with their gateway. */
export function gatewayRows(
  presence: Pick<PresenceTable, 'get' | 'listByPrefix'>,
  gateways: Gateways | undefined,
  key: EndpointKey,
  source: string | undefined,
): { gateway: Gateway; row: PresenceView }[] {
  const names = source !== undefined ? [source] : allSources(gateways).slice(1);
  return rowsInSources(presence, key, names)
    .filter((row) => row.state === 'online')
    .flatMap((row) => {
      const gateway = gateways?.get(row.source);
      return gateway ? [{ gateway, row }] : [];
    });
}

/** Kick gateway rows through their gateways' APIs; answers the reply. */
export async function kickGatewayRows(reply: FastifyReply, rows: { gateway: Gateway; row: PresenceView }[]): Promise<FastifyReply> {
  const sources = new Set(rows.map((r) => r.gateway.name));
  if (sources.size > 1) return sendError(reply, 'VIGIL_ERR_ENDPOINT_AMBIGUOUS', `held by gateways ${[...sources].join(', ')}: add ?source=`);
  const why = rows[0]!.gateway.kickUnsupported();
  if (why !== null) return sendError(reply, 'VIGIL_ERR_GATEWAY_ACTION_UNSUPPORTED', `kick: ${why}`);
  const kicked = [];
  for (const { gateway, row } of rows) {
    const r = await gateway.kick(row.id);
    if (r.kind === 'failed') return sendError(reply, 'VIGIL_ERR_GATEWAY_API_FAILED', `${gateway.name}: ${r.why}`);
    if (r.kind === 'unsupported') return sendError(reply, 'VIGIL_ERR_GATEWAY_ACTION_UNSUPPORTED', `kick: ${r.why}`);
    if (r.kind === 'kicked') kicked.push({ transport: row.transport, id: row.id, generation: row.generation, source: row.source });
  }
  if (kicked.length === 0) return sendError(reply, 'VIGIL_ERR_ENDPOINT_NOT_FOUND', `the gateway no longer holds ${rows[0]!.row.id}`);
  reply.log.info({ event: 'endpoint_kicked', source: rows[0]!.gateway.name, ids: kicked.map((k) => k.id) }, 'gateway endpoint kicked');
  return reply.send({ kicked });
}

export function pingUnsupported(reply: FastifyReply, rows: { gateway: Gateway }[]): FastifyReply {
  return sendError(reply, 'VIGIL_ERR_GATEWAY_ACTION_UNSUPPORTED', `ping: ${rows[0]!.gateway.name} (${rows[0]!.gateway.kind}) reports this row; no gateway pings a client for Vigil`);
}
