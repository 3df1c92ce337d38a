/**
 * The MQTT channel: the protocol state of one connection, EMQX's emqx_channel split out of the
 * socket (connection.ts) and the session (channel-session.ts).
 *
 *   awaiting_connect --CONNECT ok--> connected --DISCONNECT / error / kill--> closed
 *   awaiting_connect --CONNECT refused / other packet--> closed
 *
 * Handlers (handlers/*.ts, one per packet type) are functions of (state, packet, env, session,
 * nowMs) that return the next state (when it changes) and effects as data; they never touch the
 * socket, a timer or the clock. The connection layer carries the effects out. The session
 * (ChannelSession, the session core's handle) is the one collaborator they call: its verdicts
 * shape the acknowledgements, and what it sends goes out through the connection as its sink.
 */
import type { IConnackPacket, Packet, QoS } from 'mqtt-packet';
import type { Infer } from '../config/dsl.js';
import type { mqttSchema } from '../config/schema/mqtt.js';
import type { DisconnectReason } from '../liveness/types.js';
import type { Acl } from './acl.js';
import type { Message, PublishProperties } from './message.js';
import type { ChannelSession, SubOptions } from './channel-session.js';
import type { ReceiveQuota } from './receive-quota.js';
import type { OutboundAliases } from './topic-alias-out.js';

export type ProtocolVersion = 3 | 4 | 5;

export interface Will {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  properties: PublishProperties | null;
  /** v5 Will Delay Interval in seconds (0 = publish at once). */
  delayS: number;
  /** v5 Message Expiry Interval of the will in seconds, or null. */
  expiryS: number | null;
}

/** A host's `mqtt.*` options as the config file declares them (src/config/schema/mqtt.ts). */
export type MqttHostOptions = Infer<typeof mqttSchema>;

/** A host's MQTT settings as the channel needs them (built by host-policy.ts). */
export interface HostPolicy {
  host: string;
  mqtt: MqttHostOptions;
  acl: Acl;
}

export interface AwaitingConnect {
  phase: 'awaiting_connect';
}

export interface Connected {
  phase: 'connected';
  version: ProtocolVersion;
  clientId: string;
  /** Username without the `@host` suffix, or null (anonymous). */
  username: string | null;
  policy: HostPolicy;
  /** Keep Alive in force (after max_keepalive), seconds; 0 = none. */
  keepalive: number;
  cleanStart: boolean;
  will: Will | null;
  sessionExpiryS: number;
  /** Outbound inflight window: min(max_inflight, client Receive Maximum). */
  window: number;
  /** Client's v5 Maximum Packet Size, 0 = protocol limit. */
  maxPacketOut: number;
  /** Topic aliases from the client (v5 §3.3.2.3.4); null when none announced. */
  aliases: Map<number, string> | null;
  /** Topic aliases to the client (topic-alias-out.ts); null when off or the client announced none. */
  aliasesOut: OutboundAliases | null;
  /** v5: the client's unacknowledged QoS 1/2 against the server's Receive Maximum (receive-quota.ts); null for 3.1.1 or no limit. */
  quota: ReceiveQuota | null;
}

export interface Closed {
  phase: 'closed';
}

export type ChannelState = AwaitingConnect | Connected | Closed;

/** What the channel asks the connection layer to do. */
export type Effect =
  | { type: 'send'; packet: Packet }
  /** Register the client (takeover, session, liveness, presence), then send `connack` with Session Present. */
  | { type: 'open'; connack: IConnackPacket }
  | { type: 'route'; msg: Message }
  /** Subscriptions added or replaced: update the trie and deliver retained messages (after SUBACK). */
  | { type: 'subscribed'; subs: { filter: string; opts: SubOptions; existed: boolean }[] }
  | { type: 'unsubscribed'; filters: string[] }
  /** PINGRESP to a server PINGREQ (mqtt_probe = pingreq). */
  | { type: 'pong' }
  /**
   * End the connection. `code`: v5 DISCONNECT reason to send first (null = none, and never to a v3
   * client, whose DISCONNECT is client to server only); `will`: publish the will [MQTT-3.1.2-8].
   */
  | { type: 'close'; reason: DisconnectReason; code: number | null; will: boolean; sessionExpiryS?: number }
  | { type: 'count'; what: 'auth_failure' | 'acl_denied' | 'limit' | 'max_subscriptions' };

export interface Step {
  next?: ChannelState;
  effects: Effect[];
}

/** Pure lookups the handlers may make. */
export interface ChannelEnv {
  /** Host mapping: `user@host` for a configured host selects it; otherwise the listener's default host. */
  resolveHost(username: string | null): { policy: HostPolicy; user: string | null };
  authenticate(host: string, user: string, password: Buffer): boolean;
  /** A fresh server-assigned client id [MQTT-3.1.3-6]. */
  newClientId(): string;
}

/** Everything a post-CONNECT handler gets. */
export interface Ctx {
  st: Connected;
  session: ChannelSession;
  env: ChannelEnv;
  nowMs: number;
}

/** Close with a protocol error: v5 DISCONNECT `code` first, will published [MQTT-4.8.0-1]. */
export function protocolClose(st: Connected | AwaitingConnect, code: number, reason: DisconnectReason = 'protocol_error'): Step {
  return {
    next: { phase: 'closed' },
    effects: [{ type: 'close', reason, code: st.phase === 'connected' && st.version === 5 ? code : null, will: true }],
  };
}

export const step = (effects: Effect[], next?: ChannelState): Step => (next ? { next, effects } : { effects });
