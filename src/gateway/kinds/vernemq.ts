/**
 * VerneMQ vmq_webhooks: a POST per hook call with header `vernemq-hook: <hook>` and a JSON body
 * (plugindevelopment/webhookplugins.md): on_register / on_register_m5 (peer_addr, peer_port,
 * username, mountpoint, client_id), on_client_wakeup, on_client_offline (persistent session),
 * on_client_gone (clean session), the last three with only client_id and mountpoint. No ordering
 * key and no reason; offline and gone also fire when a duplicate client takes the session over,
 * so offline is debounced and, with `api`, checked: GET /api/v1/session/show (is_online per
 * client). A client of a mountpoint is `<mountpoint>/<client_id>` in Vigil.
 */
import type { ClientEvent, SnapshotSession } from '../types.js';
import { type Json, meta, num, str, validId } from './fields.js';

const CONNECTED = new Set(['on_register', 'on_register_m5', 'on_client_wakeup']);
const DISCONNECTED = new Set(['on_client_offline', 'on_client_gone']);

/** The Vigil id of a VerneMQ subscriber id {mountpoint, client_id}. */
export function vernemqId(mountpoint: string | null, clientId: string): string {
  return mountpoint ? `${mountpoint}/${clientId}` : clientId;
}

/** One webhook call; 'ignored' for hooks that say nothing about presence. */
export function vernemqHook(hook: string, o: Json): ClientEvent | null | 'ignored' {
  const type = CONNECTED.has(hook) ? 'connected' : DISCONNECTED.has(hook) ? 'disconnected' : null;
  if (type === null) return 'ignored';
  const clientId = str(o, 'client_id');
  if (!validId(clientId)) return null;
  const mountpoint = str(o, 'mountpoint');
  const addr = str(o, 'peer_addr');
  const port = num(o, 'peer_port');
  return {
    type,
    id: vernemqId(mountpoint, clientId),
    order: null,
    at: null,
    sentAt: null,
    reason: null,
    node: null,
    meta: meta({ username: str(o, 'username'), peer: addr && port !== null ? `${addr}:${port}` : addr, mountpoint, gateway_reason: type === 'disconnected' ? hook : null }),
  };
}

/** A row of `session/show` (type table); null when not online. */
export function vernemqSession(o: Json): SnapshotSession | null {
  const clientId = str(o, 'client_id');
  if (!validId(clientId) || o.is_online !== true) return null;
  const mountpoint = str(o, 'mountpoint');
  const host = str(o, 'peer_host');
  const port = num(o, 'peer_port');
  return {
    id: vernemqId(mountpoint, clientId),
    order: null,
    connectedAt: null,
    session: null,
    node: null,
    meta: meta({ username: str(o, 'user'), peer: host && port !== null ? `${host}:${port}` : host, mountpoint }),
  };
}
