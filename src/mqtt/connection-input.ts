/**
 * Pausing a connection's input after CONNECT (issue 12), two reasons, one bit each:
 *   YIELD     at most PUBLISH_PER_READ PUBLISH packets are handled per read: past them the rest of
 *             the read waits for the next turn of the event loop, so the acks of other clients
 *             (a subscriber's PUBACKs) are read in between. Mosquitto reads one packet per socket
 *             per loop pass; a 64 KiB read holds ~850 small PUBLISH.
 *   PRESSURE  back-pressure (backpressure.ts) paused this publisher until the queues it feeds drain.
 * Pausing holds the rest of the read unframed (framer.ts `holdInput`); PRESSURE also pauses the
 * stream (`pause()` / `resume()` of the transport connection: no socket specifics). Reading on frames the held
 * bytes first, on a later turn, never inside the turn of whoever released it.
 */
import type { TransportConn } from '../transport/connection.js';
import { holdInput, type Framed } from './framer.js';

export const YIELD = 1;
export const PRESSURE = 2;
export const PUBLISH_PER_READ = 64;

export interface InputOwner extends Framed {
  readonly stream: TransportConn;
  readonly ended: boolean;
  /** Bits of the reasons input is paused (0 = reading). */
  inputPaused: number;
  /** PUBLISH packets handled in the current read. */
  readPublishes: number;
  /** Frame the held input and read on (when nothing pauses it any more). */
  readOn(): void;
}

export function pauseInput(c: InputOwner, bit: number): void {
  if (c.ended) return;
  if (c.inputPaused === 0) holdInput(c);
  // Only back-pressure stops the stream; a yield lasts one turn, and what arrives meanwhile is held.
  if (bit === PRESSURE && (c.inputPaused & PRESSURE) === 0) c.stream.pause();
  c.inputPaused |= bit;
}

/** Clear `bit`; read on at `soon` when no other reason holds the input. */
export function resumeInput(c: InputOwner, bit: number, soon: (fn: () => void) => void): void {
  if ((c.inputPaused & bit) === 0) return;
  soon(() => {
    c.inputPaused &= ~bit;
    if (c.inputPaused === 0 && !c.ended) c.readOn();
  });
}

/** One more PUBLISH handled in this read: past the bound, the rest waits for the next turn. */
export function countPublish(c: InputOwner, soon: (fn: () => void) => void): void {
  if (++c.readPublishes < PUBLISH_PER_READ || (c.inputPaused & YIELD) !== 0) return;
  pauseInput(c, YIELD);
  resumeInput(c, YIELD, soon);
}
