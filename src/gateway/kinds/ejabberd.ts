/**
 * ejabberd: no outbound webhook (processone/ejabberd #4124), so Vigil polls mod_http_api's
 * `connected_users_info` (mod_admin_extra): one entry per session with jid, connection, ip, port,
 * priority, node, uptime (s), status (the presence show, or "available"), resource, statustext.
 * No ordering key; a session is told apart by its peer ip:port@node, so a resource that
 * reconnected between two polls shows as a new session. Kick: POST kick_session
 * {user, host, resource, reason}.
 */
import type { Show } from '../../presence/types.js';
import type { SnapshotSession } from '../types.js';
import { type Json, meta, num, str, validId } from './fields.js';

const SHOWS: ReadonlySet<string> = new Set(['chat', 'away', 'dnd', 'xa']);

/** One connected_users_info entry, read at wall ms `now`. */
export function ejabberdSession(o: Json, now: number): SnapshotSession | null {
  const jid = str(o, 'jid');
  if (!validId(jid) || !jid.includes('/')) return null;
  const ip = str(o, 'ip');
  const port = num(o, 'port');
  const node = str(o, 'node');
  const uptime = num(o, 'uptime');
  const status = str(o, 'status');
  const connectedAt = uptime === null ? null : now - uptime * 1000;
  return {
    id: jid,
    order: null,
    connectedAt,
    session: `${ip ?? '?'}:${port ?? '?'}@${node ?? '?'}`,
    node,
    meta: meta({ peer: ip && port !== null ? `${ip}:${port}` : ip, connection: str(o, 'connection') }),
    availability: {
      available: true,
      show: status !== null && SHOWS.has(status) ? (status as Show) : null,
      status: str(o, 'statustext'),
      priority: num(o, 'priority'),
    },
  };
}

/** The user, host and resource of a full JID (for kick_session). */
export function splitJid(jid: string): { user: string; host: string; resource: string } | null {
  const at = jid.indexOf('@');
  const slash = jid.indexOf('/', at + 1);
  if (at <= 0 || slash < 0) return null;
  return { user: jid.slice(0, at), host: jid.slice(at + 1, slash), resource: jid.slice(slash + 1) };
}
