/**
 * What the MQTT watcher subscribes to per kind, and how it reads what arrives: a client event, a
 * node's heartbeat, or nothing. VerneMQ has no per-client $SYS topic: its watcher only checks
 * the broker itself (PINGREQ), events come by webhook.
 */
import type { GatewayKind } from '../../config/schema/gateways.js';
import type { ClientEvent } from '../types.js';
import { AEDES_FILTERS, aedesSys } from './aedes.js';
import { EMQX_FILTERS, emqxSys } from './emqx.js';
import { MOSQUITTO_FILTERS, mosquittoSys } from './mosquitto.js';

export type WatchRead = { event: ClientEvent } | { heartbeat: string } | null;

export interface WatchSpec {
  filters: readonly string[];
  read(topic: string, payload: Buffer): WatchRead;
}

export function watchSpec(kind: GatewayKind): WatchSpec {
  switch (kind) {
    case 'emqx':
      return { filters: EMQX_FILTERS, read: emqxSys };
    case 'aedes':
      return { filters: AEDES_FILTERS, read: aedesSys };
    case 'mosquitto':
      return { filters: MOSQUITTO_FILTERS, read: mosquittoSys };
    default:
      return { filters: [], read: () => null };
  }
}
