/**
 * The c2s session: what the stanza layer knows about one bound resource. connection.ts implements it over a
 * socket; tests implement it with an array of sent stanzas. Presence state lives here (RFC 6121
 * §4): a bound resource is *connected*; it is *available* only after initial presence.
 */
import type { DisconnectReason, EndpointRef } from '../liveness/types.js';
import type { XmlEl } from './xml.js';

export interface PresenceState {
  available: boolean;
  /** The last broadcast presence (from stamped), replayed to probes and new contacts. */
  last: XmlEl | null;
  priority: number;
  /** Entities that got directed available presence and must get our unavailable (§4.6.3). */
  directed: Set<string>;
}

export interface C2sSession {
  /** Normalised full JID. */
  readonly jid: string;
  readonly bare: string;
  readonly user: string;
  readonly host: string;
  /** Liveness endpoint of this session (null until tracked). */
  ref: EndpointRef | null;
  readonly presence: PresenceState;
  /** Requested the roster: gets roster pushes (RFC 6121 §2.1.6 interested resource). */
  interested: boolean;
  /** Deliver a stanza to the client. */
  send(el: XmlEl): void;
  /** End the session with the stream error that matches the reason. */
  kill(reason: DisconnectReason): void;
}

export function newPresenceState(): PresenceState {
  return { available: false, last: null, priority: 0, directed: new Set() };
}
