/**
 * What an MQTT connection (connection.ts) needs from the broker, which implements it: the shared
 * decoders and counters, clocks, and the calls that register, route and close.
 */
import type { IConnackPacket } from 'mqtt-packet';
import type { PasswordChecker } from '../auth/password-cache.js';
import type { DisconnectReason } from '../liveness/types.js';
import type { FastCounter } from '../metrics.js';
import type { TimerHandle } from '../time/scheduler.js';
import type { ChannelEnv, Connected, Effect } from './channel.js';
import type { MqttConnection } from './connection.js';
import type { PacketDecoder } from './decoder.js';

/** Per-packet counters, plain numbers (metrics.ts fastCounter). */
export interface PacketCounters {
  /** Packets other than PUBLISH received. */
  readonly packetsIn: FastCounter;
  /** PUBLISH packets received. */
  readonly messagesIn: FastCounter;
  /** PUBLISH packets sent. */
  readonly messagesOut: FastCounter;
  /** Outbound messages dropped. */
  readonly dropped: FastCounter;
}

/** What a connection needs from the broker (broker.ts implements it). */
export interface ConnectionHost {
  readonly env: ChannelEnv;
  /** The shared packet decoders. */
  readonly decoder: PacketDecoder;
  /** Per-packet counters. */
  readonly counters: PacketCounters;
  /** Password checks of CONNECT (cache hit at once, a miss on the libuv pool). */
  readonly passwords: PasswordChecker;
  /** Monotonic ms (CONNECT timeout). */
  monoNow(): number;
  /** Wall-clock ms: the time base of message expiry (persisted deadlines mean the same after a restart). */
  nowMs(): number;
  /** Largest inbound packet before CONNECT names the host. */
  defaultMaxPacketSize(): number;
  open(conn: MqttConnection, st: Connected, connack: IConnackPacket): void;
  route(conn: MqttConnection, effect: Extract<Effect, { type: 'route' }>): void;
  subscribed(conn: MqttConnection, effect: Extract<Effect, { type: 'subscribed' }>): void;
  unsubscribed(conn: MqttConnection, filters: string[]): void;
  closed(conn: MqttConnection, reason: DisconnectReason, will: boolean): void;
  count(what: 'auth_failure' | 'acl_denied' | 'limit' | 'max_subscriptions'): void;
  probeable(conn: MqttConnection): true | string;
  /** A bug while handling this connection's input: log it; the connection is closed, the server lives on. */
  internalError(conn: MqttConnection, err: unknown): void;
  /** A CONNECT refused for its credentials from this connection's address: ms to hold the answer. */
  authFailureDelayMs(conn: MqttConnection, host: string): number;
  /** A timer (the failed-auth delay). */
  later(ms: number, fn: () => void): TimerHandle;
  /** Run `cb` once every session write so far is durable (at once when none is pending). */
  whenDurable(cb: (err: Error | null) => void): void;
}
