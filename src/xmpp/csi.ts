/**
 * XEP-0352 Client State Indication: what the server holds back from a client that said
 * <inactive/>, with ejabberd mod_client_state's `queue_presence` semantics.
 *
 * Held: presence that tells availability (no type, or unavailable) addressed to the inactive
 * client, one per sender full JID, the latest replacing the earlier (it then counts as sent at its
 * own time and goes out in that order). Everything else is sent at once: messages are never held
 * (issue 17), nor subscription presence, IQs or errors.
 *
 *   held --<active/>----------------------------------> all sent (XEP-0352 §5.1: before anything after it)
 *   held --a stanza that is not held, from sender X---> X's held presence sent first, then it
 *   held --the 101st----------------------------------> all sent, then the new one held
 *   held --resumption (§5.2: a resumed stream is active)--> all sent
 *
 * A session has a queue only while inactive (null = active, XEP-0352 §4.2: streams start active).
 */
import type { XmlEl } from './xml.js';

/** ejabberd's CSI_QUEUE_MAX. */
export const CSI_QUEUE_MAX = 100;

export interface Held {
  el: XmlEl;
  at: number;
}

const bareOf = (jid: string): string => {
  const slash = jid.indexOf('/');
  return slash < 0 ? jid : jid.slice(0, slash);
};

export class CsiQueue {
  /** Sender full JID -> its latest availability presence, in the order they were (last) held. */
  private readonly held = new Map<string, Held>();

  get size(): number {
    return this.held.size;
  }

  /** Is `el` a stanza this queue holds (availability presence with a sender)? */
  static holds(el: XmlEl): boolean {
    const type = el.attrs.type;
    return el.name === 'presence' && (type === undefined || type === 'unavailable') && el.attrs.from !== undefined;
  }

  /** Hold `el` (CsiQueue.holds(el) is true); the caller flushes first when `size` reached CSI_QUEUE_MAX. */
  put(el: XmlEl, at: number): void {
    const from = el.attrs.from ?? '';
    this.held.delete(from);
    this.held.set(from, { el, at });
  }

  /** Take what is held from the resources of one bare JID (before another stanza of theirs goes out). */
  takeFrom(jid: string): Held[] {
    const bare = bareOf(jid);
    const out: Held[] = [];
    for (const [from, h] of this.held) {
      if (bareOf(from) !== bare) continue;
      out.push(h);
      this.held.delete(from);
    }
    return out;
  }

  takeAll(): Held[] {
    const out = [...this.held.values()];
    this.held.clear();
    return out;
  }
}
