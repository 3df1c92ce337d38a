/**
 * What a c2s connection (connection.ts) needs from the engine and offers back, and which stream
 * error ends it for each disconnect reason.
 */
import type { Logger } from 'pino';
import type { SecureContext } from 'node:tls';
import type { DisconnectReason, LivenessRegistry } from '../liveness/types.js';
import type { Scheduler } from '../time/scheduler.js';
import type { SessionEnv } from './bound-session.js';
import type { XmppCounters } from './metrics.js';
import type { LifecyclePhase } from './lifecycle.js';
import type { NegotiationCtx, NegotiationState } from './negotiation.js';
import type { C2sSession } from './c2s-session.js';
import type { StreamErrorCondition } from './stream-errors.js';
import type { XmppWorld } from './world.js';

/** Which stream error ends a connection for each disconnect reason. */
export const KILL_CONDITION: Record<DisconnectReason, StreamErrorCondition> = {
  ping_timeout: 'connection-timeout',
  keepalive_timeout: 'connection-timeout',
  kicked: 'policy-violation',
  shutdown: 'system-shutdown',
  node_down: 'system-shutdown', // RFC 6120 §4.9.3.21: this node stops serving (lost its cluster lease)
  taken_over: 'conflict',
  client_close: 'undefined-condition',
  socket_error: 'undefined-condition',
  protocol_error: 'undefined-condition',
  account_deleted: 'not-authorized', // RFC 6120 §4.9.3.12; ejabberd ends an unregistered user's sessions
  resume_timeout: 'connection-timeout', // XEP-0198 §5: only a detached session times out; no stream to send it on
  // Reasons of gateway rows (issue 19); never the reason Vigil closes a stream of its own.
  gateway_down: 'undefined-condition',
  gateway_offline: 'undefined-condition',
};

export interface ConnectionDeps {
  world: XmppWorld;
  liveness: LivenessRegistry;
  scheduler: Scheduler;
  logger: Logger;
  counters: XmppCounters;
  /** Negotiation context minus what is per connection. */
  negotiation: Omit<NegotiationCtx, 'tlsAvailable'>;
  /** TLS context of a host (null: STARTTLS not available there). */
  secureContextFor(host: string): SecureContext | null;
  maxStanzaBytes(host: string | null): number;
  /** max_send_buffer: bytes queued to a slow reader before the connection is closed. */
  maxSendBuffer(host: string | null): number;
  /** A SASL failure from this connection's address: how long to hold its answer (ms). */
  authFailureDelayMs(host: string | null): number;
  handshakeTimeoutMs(host: string | null): number;
  /** Count this connection against the limits of the header's host (the negotiation's `admit` effect); false: refused. */
  admit(host: string): boolean;
  newResource(): string;
  newPingId(): string;
  /** A fresh, unguessable XEP-0198 SM-ID (§5: never reused). */
  newSmId(): string;
  /** What the bound sessions of this service share (bound-session.ts). */
  session: SessionEnv;
  /** SASL PLAIN: does this password match the stored credential (RFC 4616 §2)? Off the event loop. */
  checkPassword(host: string, user: string, password: string): Promise<boolean>;
  /** Peer address, shown in the presence table's meta. */
  remoteAddress: string;
  /** Milliseconds to wait for the peer's </stream:stream> before destroying the socket. */
  closeGraceMs: number;
  onEnd(conn: Connection): void;
}

export interface Connection {
  readonly session: C2sSession | null;
  readonly phase: NegotiationState['phase'];
  /** Where the connection is in its life (lifecycle.ts). */
  readonly lifecycle: LifecyclePhase;
  /** Close with the stream error matching `reason` (service shutdown, kick). */
  kill(reason: DisconnectReason): void;
}
