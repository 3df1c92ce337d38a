/**
 * The stream management state of one session (XEP-0198), created by <enable/> and kept with the
 * session across resumptions (§5: "the sequence values are carried over ... and are not reset").
 * Counters are modulo 2^32 (protocol.ts). Only sessions that enabled stream management have one,
 * so a client without it pays one null field.
 */
import type { XmlEl } from '../xml.js';
import { inc32 } from './protocol.js';
import { UnackedQueue } from './unacked.js';

export class SmState {
  /** Stanzas handled from the client: the `h` the server reports. */
  inH = 0;
  /** Stanzas sent to the client. */
  outN = 0;
  /** The last `h` the client reported. */
  ackedH = 0;
  /** `outN` when the server's last <r/> went out; -1 when none is outstanding. */
  reqAt = -1;
  /** The outstanding <r/> is the liveness probe: the next <a/> answers it. */
  probing = false;
  /** A request waits for the end of the connection's current write (one <r/> after a burst). */
  rAtFlush = false;
  /** max_ack_queue was passed: the unacknowledged stanzas are bounced, never resent (ejabberd). */
  overflowed = false;
  /** While detached: the address whose connection slot the session holds (engine.ts). */
  heldIp: string | null = null;
  readonly queue = new UnackedQueue();

  constructor(
    /** The SM-ID when resumable, else null. */
    readonly id: string | null,
    /** Resumption time in seconds (0: not resumable). */
    readonly resumeS: number,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  /** A stanza went (or, detached, would have gone) to the client. */
  sent(el: XmlEl, at: number): void {
    this.outN = inc32(this.outN);
    this.queue.push(el, at);
  }

  /** A stanza from the client was handled (§4: the `h` we report counts it). */
  handled(): void {
    this.inH = inc32(this.inH);
  }

  /** The client handled `count` more, up to `h` (checked by nonza.ts: never more than queued). */
  acked(h: number, count: number): void {
    this.queue.drop(count);
    this.ackedH = h;
  }
}
