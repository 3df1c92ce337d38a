/**
 * Mosquitto. 2.0.x publishes only aggregates on $SYS (no per-client topic: eclipse-mosquitto
 * #255, #655): the watcher checks the broker itself (PINGREQ) and `$SYS/broker/uptime`
 * (every sys_interval, 10 s by default) is its heartbeat. 2.1's example plugin `connection-state`
 * publishes a retained `$SYS/broker/connection/client/<clientid>/state`, `1` on connect and `0` on
 * disconnect: no timestamp, no reason, no ordering key; being retained, a (re)subscription brings
 * every known client's last state, which serves as the snapshot.
 */
import type { ClientEvent } from '../types.js';
import { validId } from './fields.js';

const STATE = /^\$SYS\/broker\/connection\/client\/(.+)\/state$/;

/** The one node of a Mosquitto broker, for heartbeats and the rows it holds. */
export const MOSQUITTO_NODE = 'broker';

export const MOSQUITTO_FILTERS = ['$SYS/broker/connection/client/#', '$SYS/broker/uptime'];

export function mosquittoSys(topic: string, payload: Buffer): { event: ClientEvent } | { heartbeat: string } | null {
  if (topic === '$SYS/broker/uptime') return { heartbeat: MOSQUITTO_NODE };
  const m = STATE.exec(topic);
  if (!m || !validId(m[1]!)) return null;
  const v = payload.toString('utf8').trim();
  if (v !== '1' && v !== '0') return null;
  const type = v === '1' ? 'connected' : 'disconnected';
  return { event: { type, id: m[1]!, order: null, at: null, sentAt: null, reason: null, node: MOSQUITTO_NODE, meta: {} } };
}
