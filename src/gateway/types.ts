/**
 * What every gateway channel (MQTT watcher, webhook receiver, REST poller) turns a gateway's own
 * messages into, so one tracker (sessions.ts) orders, deduplicates and debounces them whatever
 * the source. Exact event names and payloads of each kind: docs/gateways.md and
 * ../shared/research/cluster-anchors.md §6.
 */
import type { GatewayKind } from '../config/schema/gateways.js';
import type { DisconnectReason } from '../liveness/types.js';
import type { Availability, Meta } from '../presence/types.js';

export type { GatewayKind };

/** One client event as a gateway reported it. */
export interface ClientEvent {
  type: 'connected' | 'disconnected';
  /** MQTT client id, or full JID (ejabberd). */
  id: string;
  /**
   * The gateway's ordering key of the session, when it has one: EMQX `connected_at` (ms), carried
   * by both its connected and (since 5.x) disconnected events. null for Aedes, Mosquitto, VerneMQ.
   */
  order: number | null;
  /** Wall ms the gateway stamped on the event (connected_at / disconnected_at), null when none. */
  at: number | null;
  /** Wall ms the gateway sent the event (EMQX `timestamp`/`ts`): for the lag shown in GET /v1/gateways. */
  sentAt: number | null;
  /** disconnected: the reason mapped onto Vigil's; the gateway's own word is in meta.gateway_reason. */
  reason: DisconnectReason | null;
  /** The gateway node that holds the session (EMQX node, Aedes broker id), null when unknown. */
  node: string | null;
  meta: Meta;
}

/** One session in a gateway's snapshot (EMQX GET /api/v5/clients, ejabberd connected_users_info, VerneMQ session/show). */
export interface SnapshotSession {
  id: string;
  order: number | null;
  /** Wall ms the session began, when the gateway tells (EMQX connected_at, ejabberd now - uptime). */
  connectedAt: number | null;
  /** The gateway's identity of the session when it has no ordering key (ejabberd: peer ip:port@node). */
  session: string | null;
  node: string | null;
  meta: Meta;
  availability?: Availability;
}

/** Reachability of a gateway as GET /v1/gateways shows it (reach.ts has the transitions). */
export type GatewayState = 'starting' | 'up' | 'unreachable' | 'down' | 'unmonitored';
