/**
 * The stanzas sent to a stream-managed client and not yet acknowledged (XEP-0198 §4), oldest
 * first, with the wall time each was sent (for the XEP-0203 delay of a resend, §4).
 *
 *   sent --push--> [ head ... tail ] --drop(n) on <a h/> or <resume h/>--> handled
 *                        |
 *                        +--take() when the session ends: resend_on_timeout decides (unacked-routing.ts)
 *
 * Bounded by its owner (max_ack_queue: the session closes the stream past it). Two arrays and a
 * head index: a drop moves the index, the arrays are compacted once the dropped part is at least
 * half of them, so a long-lived session's queue does not keep stanzas it no longer holds. An
 * empty queue costs two empty arrays.
 */
import type { XmlEl } from '../xml.js';

export class UnackedQueue {
  private els: (XmlEl | null)[] = [];
  private times: number[] = [];
  private head = 0;

  get length(): number {
    return this.els.length - this.head;
  }

  push(el: XmlEl, at: number): void {
    this.els.push(el);
    this.times.push(at);
  }

  /** Forget the oldest `n` (at most all of them). */
  drop(n: number): void {
    const k = Math.min(n, this.length);
    for (let i = this.head; i < this.head + k; i++) this.els[i] = null;
    this.head += k;
    if (this.head === this.els.length) this.clear();
    else if (this.head >= 64 && this.head * 2 >= this.els.length) {
      this.els = this.els.slice(this.head);
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }

  /** Every held stanza with its send time, oldest first. */
  *entries(): Generator<{ el: XmlEl; at: number }> {
    for (let i = this.head; i < this.els.length; i++) yield { el: this.els[i] as XmlEl, at: this.times[i] as number };
  }

  /** Take every held stanza out (the session ends). */
  take(): { el: XmlEl; at: number }[] {
    const out = [...this.entries()];
    this.clear();
    return out;
  }

  private clear(): void {
    this.els = [];
    this.times = [];
    this.head = 0;
  }
}
