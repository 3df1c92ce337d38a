/**
 * EMQX 5/6: three ways to hear about clients, one shape out (ClientEvent / SnapshotSession).
 *   - rule engine + HTTP action (webhook): `SELECT * FROM "$events/client_connected",
 *     "$events/client_disconnected"`; body fields `event` ("client.connected" |
 *     "client.disconnected"), clientid, username, peername, proto_ver, keepalive, connected_at,
 *     disconnected_at, reason, node, timestamp (apps/emqx_rule_engine/src/emqx_rule_events.erl);
 *   - $SYS event messages, on by default: `$SYS/brokers/<node>/clients/<clientid>/connected|
 *     disconnected`, JSON with clientid, username, ipaddress, proto_ver, connected_at, ts (+ keepalive;
 *     reason, disconnected_at) (apps/emqx/src/emqx_sys.erl); `$SYS/brokers/<node>/uptime` every
 *     sys_heartbeat_interval (30 s) is the node's heartbeat;
 *   - REST: GET /api/v5/clients (paged, `connected_at` as RFC 3339), DELETE /api/v5/clients/{id}.
 * `connected_at` (ms) is the ordering key: EMQX stamps both events of a session with it.
 */
import type { DisconnectReason } from '../../liveness/types.js';
import type { ClientEvent, SnapshotSession } from '../types.js';
import { type Json, epochMs, meta, num, parseObject, str, validId } from './fields.js';

/** EMQX's disconnect reason (an atom) onto Vigil's; the original stays in meta.gateway_reason. */
export function emqxReason(reason: string | null): DisconnectReason {
  switch (reason) {
    case 'normal':
      return 'client_close';
    case 'kicked':
      return 'kicked';
    case 'takenover':
    case 'takeovered':
    case 'discarded':
      return 'taken_over';
    case 'keepalive_timeout':
      return 'keepalive_timeout';
    case 'sock_closed':
    case 'tcp_closed':
    case 'ssl_closed':
    case 'closed':
      return 'socket_error';
    case 'frame_too_large':
    case 'protocol_error':
    case 'malformed_packet':
    case 'not_authorized':
      return 'protocol_error';
    default:
      return 'gateway_offline';
  }
}

function event(type: ClientEvent['type'], o: Json, node: string | null, peer: string | null): ClientEvent | null {
  const id = str(o, 'clientid');
  if (!validId(id)) return null;
  const connectedAt = epochMs(o, 'connected_at');
  const reason = type === 'disconnected' ? str(o, 'reason') : null;
  return {
    type,
    id,
    order: connectedAt,
    at: type === 'connected' ? connectedAt : epochMs(o, 'disconnected_at'),
    sentAt: num(o, 'timestamp') ?? num(o, 'ts'),
    reason: type === 'disconnected' ? emqxReason(reason) : null,
    node,
    meta: meta({
      username: str(o, 'username'),
      peer,
      proto_ver: num(o, 'proto_ver'),
      keepalive: num(o, 'keepalive'),
      gateway_reason: reason,
    }),
  };
}

/** One rule-engine event (webhook body); null when it is not a client connect/disconnect. */
export function emqxRuleEvent(o: Json): ClientEvent | null | 'ignored' {
  const name = str(o, 'event');
  const type = name === 'client.connected' || name === 'client_connected' ? 'connected' : name === 'client.disconnected' || name === 'client_disconnected' ? 'disconnected' : null;
  if (type === null) return 'ignored';
  return event(type, o, str(o, 'node'), str(o, 'peername'));
}

const SYS_CLIENT = /^\$SYS\/brokers\/([^/]+)\/clients\/(.+)\/(connected|disconnected)$/;
const SYS_UPTIME = /^\$SYS\/brokers\/([^/]+)\/uptime$/;

export const EMQX_FILTERS = ['$SYS/brokers/+/clients/#', '$SYS/brokers/+/uptime'];

/** A $SYS message: a client event, a node's heartbeat, or null (another $SYS topic, or malformed). */
export function emqxSys(topic: string, payload: Buffer): { event: ClientEvent } | { heartbeat: string } | null {
  const up = SYS_UPTIME.exec(topic);
  if (up) return { heartbeat: up[1]! };
  const m = SYS_CLIENT.exec(topic);
  if (!m) return null;
  const o = parseObject(payload);
  if (!o) return null;
  const ip = str(o, 'ipaddress');
  const e = event(m[3] as ClientEvent['type'], o, m[1]!, ip);
  return e && e.id === m[2] ? { event: e } : null;
}

/** One entry of GET /api/v5/clients `data`; null for a disconnected (persistent) session. */
export function emqxClient(o: Json): SnapshotSession | null {
  const id = str(o, 'clientid');
  if (!validId(id) || o.connected === false) return null;
  const connectedAt = epochMs(o, 'connected_at');
  const ip = str(o, 'ip_address');
  const port = num(o, 'port');
  return {
    id,
    order: connectedAt,
    connectedAt,
    session: null,
    node: str(o, 'node'),
    meta: meta({
      username: str(o, 'username'),
      peer: ip && port !== null ? `${ip}:${port}` : ip,
      proto_ver: num(o, 'proto_ver'),
      keepalive: num(o, 'keep_alive') ?? num(o, 'keepalive'),
    }),
  };
}
