/**
 * Presence ingestion: how rows of clients Vigil does NOT terminate (gateway mode, issue 19) enter
 * the presence table. A gateway's events (EMQX, Aedes, Mosquitto, VerneMQ, ejabberd) are ordered,
 * deduplicated and debounced by the gateway tracker (src/gateway/); what reaches this interface
 * is already decided, so it is narrow and dumb on purpose: a row goes online (new, a new session
 * in place of an online one, or new details of the same session) or offline with a reason.
 *
 * Ingested rows live in the same table, change feed and REST views as local rows, with
 * `source: <gateway name>` and their own id namespace per source. They have no liveness handle:
 * their liveness shows `active` while the gateway reports them connected, and they go offline
 * with `gateway_down` when the gateway is lost for its gateway_timeout.
 *
 * Implemented by the in-memory table (table.ts through ingest-rows.ts); the cluster store
 * (issue 15) implements it as well so both carry gateway rows.
 */
import type { DisconnectReason, Transport } from '../liveness/types.js';
import type { Availability, Meta } from './types.js';

/** A row key with its (non-local) source: the gateway's name. */
export interface SourcedKey {
  host: string;
  transport: Transport;
  /** The gateway's name (never LOCAL_SOURCE). */
  source: string;
  /** MQTT client id or full JID, as the gateway names it. */
  id: string;
}

export interface IngestOnline {
  key: SourcedKey;
  /** Wall ms the gateway says the session began (EMQX connected_at; ejabberd now - uptime; else receipt). */
  connectedAt: number;
  /** Wall ms of the event that reported it (shown as last_activity_at). */
  at: number;
  /**
   * True when the gateway reports a new session while the row is online (a takeover, or a
   * reconnect whose offline the gateway never told): the row gets a new generation and an
   * `online` change with takeover=true. False for the same session: only changed details
   * (meta, availability) are written and announced.
   */
  renew: boolean;
  /** What the gateway told about the client (username, peer, node, protocol version, ...). */
  meta: Meta;
  /** XMPP presence as the gateway reports it (ejabberd); absent for MQTT rows (always available). */
  availability?: Availability;
}

export interface PresenceIngest {
  /** The gateway reports the client connected. */
  ingestOnline(o: IngestOnline): void;
  /** The gateway reports the client gone (or Vigil lost the gateway). No-op unless the row is online. */
  ingestOffline(key: SourcedKey, reason: DisconnectReason, meta?: Meta): void;
  /** Keys of every online row of a source (all hosts), in no particular order. */
  onlineKeys(source: string): SourcedKey[];
}
