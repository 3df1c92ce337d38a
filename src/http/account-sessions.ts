/**
 * The live sessions of one account, and ending them (a deleted user, as ejabberd's `unregister`
 * kicks): every XMPP resource of `user@host` (endpoint ids `user@host/resource`) and every MQTT
 * client that logged in as `user` on `host` (the username the broker put into the row's meta).
 * Each is closed through its liveness handle with the reason `account_deleted`: XMPP stream error
 * `<not-authorized/>` (RFC 6120 §4.9.3.12), MQTT 5 DISCONNECT 0x87 Not authorized, MQTT 3.1.1 a
 * plain close; the change feed records `offline` with that reason.
 */
import type { DisconnectReason, EndpointRef, LivenessHandle, LivenessRegistry } from '../liveness/types.js';
import type { PresenceTable } from '../presence/types.js';

type Deps = { liveness: Pick<LivenessRegistry, 'get' | 'list'>; presence: Pick<PresenceTable, 'get' | 'listByPrefix'> };

export function accountSessions(deps: Deps, host: string, user: string): LivenessHandle[] {
  const out: LivenessHandle[] = [];
  for (const row of deps.presence.listByPrefix(host, 'xmpp', `${user}@${host}`)) {
    const h = row.state === 'online' ? deps.liveness.get(row) : undefined;
    if (h?.live) out.push(h);
  }
  for (const h of deps.liveness.list(host, 'mqtt')) {
    if (h.live && deps.presence.get(h.ref)?.meta['username'] === user) out.push(h);
  }
  return out;
}

/** Close every live session of the account; returns what was closed. */
export function endAccountSessions(deps: Deps, host: string, user: string, reason: DisconnectReason = 'account_deleted'): EndpointRef[] {
  const handles = accountSessions(deps, host, user);
  for (const h of handles) h.kill(reason);
  return handles.map((h) => h.ref);
}
