/**
 * The life of one c2s connection, one field (RFC 6120 §4.2 opening, §4.3.3 restart, §4.4 closing):
 *
 *   awaiting-header --our header sent (the stream machine's `open` effect)--> streaming
 *   streaming --stream restart (`reset-parser`: STARTTLS §5.4.3.3, SASL success §6.4.6)--> awaiting-header
 *   awaiting-header | streaming --we close (stream error or </stream:stream>), the peer ends its
 *                                 side, or the send buffer overflows--> closing(reason)
 *   awaiting-header | streaming | closing --socket closed--> ended(reason)
 *
 * awaiting-header is also "our header is not out": an error then needs one first (§4.9.1.2).
 * Nothing is read or written once closing. The connection (connection.ts) moves it only through
 * `moved`, which refuses any move not drawn above: that would be a bug, not bad input.
 */
import type { DisconnectReason } from '../liveness/types.js';
import type { TimerHandle } from '../time/scheduler.js';

export type LifecyclePhase = 'awaiting-header' | 'streaming' | 'closing' | 'ended';

export interface Closing {
  readonly phase: 'closing';
  /** Why the connection ends (REST, change feed). */
  readonly reason: DisconnectReason;
  /** Destroys the socket if the peer never closes its side (we closed first). */
  grace: TimerHandle | null;
}

export type Lifecycle =
  | { readonly phase: 'awaiting-header' }
  | { readonly phase: 'streaming' }
  | Closing
  | { readonly phase: 'ended'; readonly reason: DisconnectReason };

/** The legal moves (header comment). */
export const LIFECYCLE_MOVES: Readonly<Record<LifecyclePhase, readonly LifecyclePhase[]>> = {
  'awaiting-header': ['streaming', 'closing', 'ended'],
  streaming: ['awaiting-header', 'closing', 'ended'],
  closing: ['ended'],
  ended: [],
};

/** Shared: the two phases without data cost a connection no object of its own. */
export const AWAITING_HEADER: Lifecycle = { phase: 'awaiting-header' };
export const STREAMING: Lifecycle = { phase: 'streaming' };

/** Still reading and writing (neither closing nor ended). */
export const isOpen = (life: Lifecycle): boolean => life.phase === 'awaiting-header' || life.phase === 'streaming';

/** `next` when `from -> next` is a legal move; throws otherwise. */
export function moved(from: Lifecycle, next: Lifecycle): Lifecycle {
  if (!LIFECYCLE_MOVES[from.phase].includes(next.phase)) throw new Error(`xmpp connection: ${from.phase} -> ${next.phase} is not a lifecycle move`);
  return next;
}
