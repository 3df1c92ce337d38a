/**
 * What an MQTT connection (connection.ts) and the broker (broker.ts) need of each other, as
 * narrow interfaces. A connection holds one ConnectionDeps, shared by every connection of the
 * listener (one field per connection, no object of its own):
 *
 *   connection --wire-->   decoders, per-packet counters, clocks          (shared machinery)
 *              --gate-->   channel env, password checks, failed-auth delay (CONNECT admission)
 *              --broker--> open, route, subscribed, unsubscribed, closed   (its client's life)
 *   broker     --BrokerClient--> the connection: send, deliver, end, kill, opened(...)
 *
 * The broker never writes a connection's fields: it calls `opened` with what the connection keeps
 * (session handle, its generation, liveness handle), and `send` / `end` to refuse.
 */
import type { IConnackPacket, Packet } from 'mqtt-packet';
import type { PasswordChecker } from '../auth/password-cache.js';
import type { DisconnectReason, LivenessAdapter, LivenessHandle } from '../liveness/types.js';
import type { SessionHandle, SessionSink } from '../mqtt-session/session-service.js';
import type { TimerHandle } from '../time/scheduler.js';
import type { Via } from '../liveness/types.js';
import type { Throttled } from './backpressure.js';
import type { ChannelEnv, Connected } from './channel.js';
import type { CertificateIdentity } from './connect-check.js';
import type { SubOptions } from './channel-session.js';
import type { Holder } from './client-registry.js';
import type { PacketDecoder } from './decoder.js';
import type { EncodeCache } from './deliver.js';
import type { Delivery, Message } from './message.js';
import type { CountedEvent, PacketCounters } from './metrics.js';
import type { Subscriber } from './router.js';

export interface ConnectionDeps {
  readonly wire: PacketWire;
  readonly gate: ConnectGate;
  readonly broker: ClientBroker;
}

/** What every connection of a listener shares to read and write packets. */
export interface PacketWire {
  /** The shared mqtt-packet parsers. */
  readonly decoder: PacketDecoder;
  readonly counters: PacketCounters;
  /** Largest inbound packet before CONNECT names the host (the default host's max_packet_size). */
  defaultMaxPacketSize(): number;
  /** Monotonic ms (when a connection opened: the CONNECT timeout). */
  monoNow(): number;
  /** Run `fn` on a later turn of the event loop, after pending I/O (reading on after a pause). */
  soon(fn: () => void): void;
  /** Wall-clock ms: the time base of message expiry (persisted deadlines mean the same after a restart). */
  nowMs(): number;
}

/** CONNECT admission: the channel's env (host mapping, client ids), password checks, failed-auth delay. */
export interface ConnectGate {
  readonly env: ChannelEnv;
  /** A cache hit answers at once, a miss with a promise (the PBKDF2 runs on the libuv pool). */
  readonly passwords: Pick<PasswordChecker, 'checkSoon'>;
  /** A CONNECT refused for its credentials from `ip`: ms to hold the answer. */
  authFailureDelayMs(ip: string, host: string): number;
  /** A timer (the failed-auth delay). */
  later(ms: number, fn: () => void): TimerHandle;
  /** The listener's certificate-to-username mode (its tls block), null: the CONNECT's credentials. */
  readonly identity: CertificateIdentity | null;
}

/** What a connection tells the broker about its client (broker.ts implements it). */
export interface ClientBroker {
  /**
   * CONNECT accepted: claim the client id, open the session (CONNACK goes out through it), track
   * liveness, close a taken-over connection. A promise: the connection holds its input until it
   * settles (a cluster's claim or will outbox takes a round trip).
   */
  open(conn: BrokerClient, st: Connected, connack: IConnackPacket): void | Promise<void>;
  /** A PUBLISH from the client: store it when retained, deliver it. */
  route(conn: BrokerClient, msg: Message): void;
  /** Subscriptions added or replaced (after the SUBACK): route to them, send the retained messages. */
  subscribed(conn: BrokerClient, subs: readonly { filter: string; opts: SubOptions; existed: boolean }[]): void;
  unsubscribed(conn: BrokerClient, filters: readonly string[]): void;
  /** The connection ended (once): release the client id, close the session, untrack, the will. */
  closed(conn: BrokerClient, reason: DisconnectReason, will: boolean): void;
  /** Run `cb` once every session write so far is durable (at once when none is pending). */
  whenDurable(cb: (err: Error | null) => void): void;
  /** Whether the server may probe this client (mqtt_probe pingreq, or ws_ping over WebSocket), or why not. */
  probeable(conn: BrokerClient): true | string;
  /** How this client is checked now: a WebSocket Ping, a PINGREQ, or the Keep Alive rule alone. */
  probeOf(conn: BrokerClient): 'ws_ping' | 'pingreq' | 'keepalive';
  count(what: CountedEvent): void;
  /** A bug while handling this connection's input: log it; the connection is closed, the server lives on. */
  internalError(conn: BrokerClient, err: unknown): void;
}

/** What the broker needs of a connection (connection.ts implements it). */
export interface BrokerClient extends Holder, Subscriber, LivenessAdapter, SessionSink<Delivery>, Throttled {
  /** True once the connection ended (a cluster's late answer to `open` then gives its claim back). */
  readonly ended: boolean;
  /** The negotiated state once CONNECT succeeded; kept after close for the will and the session. */
  readonly negotiated: Connected | null;
  readonly session: SessionHandle<Delivery, SubOptions> | null;
  /** The session generation this connection opened (a late close after a takeover is ignored). */
  readonly sessionGeneration: number;
  readonly handle: LivenessHandle | null;
  /** tcp | tls | ws | wss. */
  readonly via: Via;
  /** When the socket was accepted (monotonic ms). */
  readonly openedAtMono: number;
  /** No CONNECT within connect_timeout: close (the transport gate's timer). */
  handshakeTimeout(): void;
  /** End the connection once (optional v5 DISCONNECT `code`), publishing the will when `will`. */
  end(reason: DisconnectReason, code: number | null, will: boolean): void;
  /** The client's own, opened session and liveness handle (the broker's answer to `open`). */
  opened(session: SessionHandle<Delivery, SubOptions>, generation: number, handle: LivenessHandle): void;
  send(packet: Packet): void;
  /** One delivery: QoS 0 at once, QoS 1/2 through the session (retained messages on subscribe). */
  deliver(d: Delivery, cache: EncodeCache | null): void;
}
