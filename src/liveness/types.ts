/**
 * The liveness core's public contract (ejabberd mod_ping generalised to XMPP and MQTT).
 *
 * One worker per host keeps one restartable idle timer per tracked endpoint. A protocol adapter:
 *   - calls `registry.track(...)` once the client is authenticated and bound (XMPP) / CONNACKed (MQTT),
 *   - calls `handle.touch()` on every inbound stanza/packet (hot path: a field write, no timer work),
 *   - reports probe answers with `handle.answered(kind)`,
 *   - calls `handle.untrack(reason)` when the connection ends,
 * and implements `probe()` and `kill()` which the core calls.
 *
 * States (one field, see LivenessState):
 *   active --idle ping_interval--> probing --answer--> active
 *                                  probing --no answer in ping_ack_timeout--> unresponsive
 *   active --service-unavailable answer--> paused (no probing until the next activity; ejabberd's rule)
 *   active --idle (onIdle 'expire', MQTT keepalive)--> unresponsive (reason keepalive_timeout)
 *   unresponsive + timeout_action kill -> adapter.kill(); + none -> `ping_timeout` event, connection kept;
 *   any activity from unresponsive/paused/probing -> active.
 *   any live state --suspend(ms): the connection dropped, the session is resumable (XEP-0198 §5)--> resumable
 *   resumable --resume(): a new connection took the session over, same generation--> active
 *   resumable --ms passed--> adapter.kill(ref, 'resume_timeout'), then offline (reason resume_timeout)
 *   resumable: no probe, no timeout_action; touch/answered change nothing (no connection can report
 *   activity); kill and untrack end it as any live endpoint.
 *
 * Generations: every track() gets a fresh, globally increasing generation. Tracking an id that is
 * already tracked (takeover, resource conflict) supersedes the old handle silently: no offline/online
 * pair is emitted, and every later call on the old handle is a no-op, so a late event from an old
 * connection can never touch its successor.
 */
import type { PingConfig } from '../config/types.js';

/** What the liveness core holds per host: mod_ping's options plus how MQTT clients are checked. */
export interface LivenessHostConfig extends PingConfig {
  mqtt_probe: 'keepalive' | 'pingreq' | 'ws_ping';
  xmpp_probe: 'iq' | 'ws_ping';
}

export type Transport = 'xmpp' | 'mqtt';

/**
 * The network transport under a protocol (issue 14): `tls` is TCP with TLS (MQTT on 8883, XMPP
 * direct TLS or after STARTTLS), `ws` / `wss` WebSocket without / with TLS. Not `transport`, which
 * names the protocol in the REST API (decision 1 of the brief).
 */
export type Via = 'tcp' | 'tls' | 'ws' | 'wss';

export type LivenessState = 'active' | 'probing' | 'unresponsive' | 'paused' | 'resumable';

/** Why a connection ended. Stable strings: they appear in the REST API and the change feed. */
export type DisconnectReason =
  | 'client_close'
  | 'ping_timeout'
  | 'keepalive_timeout'
  | 'taken_over'
  | 'kicked'
  | 'socket_error'
  | 'protocol_error'
  | 'shutdown'
  | 'account_deleted'
  /** A resumable session (XEP-0198 §5) was not resumed in time: its liveness state was `resumable`. */
  | 'resume_timeout'
  /** Gateway rows (issue 19): the gateway was lost for gateway_timeout; no gateway reports its own death. */
  | 'gateway_down'
  /** Gateway rows: the gateway reported the client offline without a reason Vigil can map. */
  | 'gateway_offline'
  /** Cluster mode: the node holding the connection died (swept by a survivor) or lost its lease. */
  | 'node_down';

export interface EndpointKey {
  host: string;
  transport: Transport;
  /** Full JID for XMPP, client id for MQTT. */
  id: string;
}

export interface EndpointRef extends EndpointKey {
  generation: number;
}

/** How an idle endpoint is checked. */
export interface TrackOptions {
  /**
   * 'probe': after the idle interval ask the adapter to probe and wait ping_ack_timeout (XMPP ping,
   * MQTT mqtt_probe=pingreq). Only when the host's send_pings is true.
   * 'expire': the idle interval itself is the deadline (MQTT keepalive rule [MQTT-3.1.2-24]); always on.
   */
  onIdle: 'probe' | 'expire';
  /** Idle interval in ms for this endpoint; defaults to the host's ping_interval. 0 = never times out. */
  idleMs?: number;
  /**
   * How long a probe of this endpoint waits for its answer, in ms; defaults to the host's
   * ping_ack_timeout (XMPP stream management: ack_timeout, as ejabberd's mod_stream_mgmt).
   */
  ackMs?: number;
}

/** Answer to a probe: 'pong' is proof of life; 'unsupported' is XEP-0199 service-unavailable. */
export type ProbeAnswer = 'pong' | 'unsupported';

export interface LivenessAdapter {
  /** The network transport under the connection (tcp | tls | ws | wss), shown in presence. */
  readonly via?: Via | undefined;
  /** Send a probe to the endpoint (XEP-0199 IQ ping; MQTT PINGREQ). The answer comes via handle.answered(). */
  probe(ep: EndpointRef): void;
  /** Close the connection; the adapter must then call handle.untrack(reason). */
  kill(ep: EndpointRef, reason: DisconnectReason): void;
  /**
   * Whether the endpoint can be probed now (REST ping-now). Return a reason string when it cannot
   * (e.g. an MQTT client on a host with mqtt_probe=keepalive). Absent = always probeable.
   */
  canProbe?(ep: EndpointRef): true | string;
}

export interface LivenessHandle {
  readonly ref: EndpointRef;
  /** The adapter's network transport (null when it does not say). */
  readonly via: Via | null;
  /** False once untracked or superseded by a newer generation. */
  readonly live: boolean;
  readonly state: LivenessState;
  /** Monotonic ms of the last inbound activity. */
  readonly lastActivityMono: number;
  /** Wall clock ms of the last inbound activity. */
  lastActivityAt(): number;
  /** Wall clock ms at which the next timer decision happens, or null if none is pending. */
  nextDeadlineAt(): number | null;
  readonly lastRttMs: number | null;
  /** Inbound activity: restarts the idle timer. Cheap: one field write. */
  touch(): void;
  /** The endpoint answered a probe. */
  answered(answer: ProbeAnswer): void;
  /** Change how this endpoint is checked (e.g. keepalive renegotiated). */
  setOptions(opts: TrackOptions): void;
  /** Stop tracking; emits `offline` with the reason (unless superseded). Idempotent. */
  untrack(reason: DisconnectReason): void;
  /**
   * The connection is gone but its session can be resumed (XEP-0198 §5): state `resumable`, no
   * probing, until `ms` from now; then adapter.kill(ref, 'resume_timeout') and `offline`.
   * `nextDeadlineAt()` is that moment (the REST view's resumable_until). No-op when not live.
   */
  suspend(ms: number): void;
  /** A new connection took the resumable session over: back to `active`, same generation, no offline/online pair. */
  resume(): void;
  /**
   * Probe now (REST ping-now): resolves with the round-trip time, or `timeout` after the host's
   * ping_ack_timeout, or `unsupported` on service-unavailable, or `gone` if untracked meanwhile.
   * Does not apply timeout_action.
   */
  probeNow(): Promise<ProbeNowResult>;
  /** Ask the adapter to close the connection (REST kick: reason 'kicked'). No-op when not live. */
  kill(reason: DisconnectReason): void;
}

export type ProbeNowResult =
  | { kind: 'answered'; rttMs: number }
  | { kind: 'unsupported'; rttMs: number }
  | { kind: 'timeout' }
  | { kind: 'gone' }
  | { kind: 'unprobeable'; why: string };

export type LivenessEvent =
  /** `meta`: who the endpoint is (the adapter's fields: username, protocol level, address), or null. */
  | { type: 'online'; ref: EndpointRef; at: number; takeover: boolean; meta: EndpointMeta | null }
  | { type: 'offline'; ref: EndpointRef; at: number; reason: DisconnectReason }
  | { type: 'probe_sent'; ref: EndpointRef; at: number }
  | { type: 'probe_answered'; ref: EndpointRef; at: number; rttMs: number; answer: ProbeAnswer }
  | { type: 'ping_timeout'; ref: EndpointRef; at: number; reason: 'ping_timeout' | 'keepalive_timeout' }
  | { type: 'killed'; ref: EndpointRef; at: number; reason: DisconnectReason }
  | { type: 'state'; ref: EndpointRef; at: number; state: LivenessState }
  | { type: 'host_config'; host: string; at: number; config: LivenessHostConfig };

export type LivenessListener = (event: LivenessEvent) => void;

/**
 * What an adapter says about an endpoint when it tracks it, carried in the `online` event so the
 * presence table's first record of the endpoint already says who it is (the liveness core only
 * passes it on; presence's Meta has this shape).
 */
export type EndpointMeta = Readonly<Record<string, string | number | boolean | null>>;

export interface LivenessRegistry {
  /** Start tracking `key`; `meta` goes out with the `online` event (and is not kept here). */
  track(key: EndpointKey, adapter: LivenessAdapter, opts: TrackOptions, meta?: EndpointMeta): LivenessHandle;
  /** The live handle for a key, if any. */
  get(key: EndpointKey): LivenessHandle | undefined;
  /** Live handles of a host (optionally one transport), in tracking order. */
  list(host: string, transport?: Transport): Iterable<LivenessHandle>;
  /** Number of tracked endpoints (all hosts, or one host). */
  size(host?: string): number;
  hosts(): string[];
  hostConfig(host: string): LivenessHostConfig | undefined;
  /**
   * Change a host's ping options at runtime: every live timer is re-armed against the new values,
   * no endpoint is dropped. Adds the host when unknown. Emits `host_config` (the MQTT adapter
   * listens to re-check its endpoints when mqtt_probe changes).
   */
  setHostConfig(host: string, patch: Partial<LivenessHostConfig>): LivenessHostConfig;
  subscribe(listener: LivenessListener): () => void;
  /** Cancel every timer (shutdown). Handles stay queryable. */
  stop(): void;
}
