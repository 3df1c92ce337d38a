/**
 * Aedes: `$SYS/<brokerId>/new/clients` and `$SYS/<brokerId>/disconnect/clients` with the client id
 * as payload, `$SYS/<brokerId>/heartbeat` every heartbeatInterval (60 s by default) (docs/Aedes.md).
 * No ordering key, no reason, no snapshot API: offline is debounced, and a takeover on one broker
 * reads disconnect-then-connect (aedes.js registerClient closes the old client first). The broker
 * id says which node holds a session, so a late disconnect from another node is stale.
 */
import type { ClientEvent } from '../types.js';
import { validId } from './fields.js';

const TOPIC = /^\$SYS\/([^/]+)\/(new\/clients|disconnect\/clients|heartbeat)$/;

export const AEDES_FILTERS = ['$SYS/+/new/clients', '$SYS/+/disconnect/clients', '$SYS/+/heartbeat'];

export function aedesSys(topic: string, payload: Buffer): { event: ClientEvent } | { heartbeat: string } | null {
  const m = TOPIC.exec(topic);
  if (!m) return null;
  const node = m[1]!;
  if (m[2] === 'heartbeat') return { heartbeat: node };
  const id = payload.toString('utf8');
  if (!validId(id)) return null;
  const type = m[2] === 'new/clients' ? 'connected' : 'disconnected';
  return { event: { type, id, order: null, at: null, sentAt: null, reason: null, node, meta: {} } };
}
