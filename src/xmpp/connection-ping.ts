/**
 * The liveness probe of a bound session and the recognition of its answer, for connection.ts:
 * under XEP-0198 stream management an <r/> (ejabberd 24.02; §4: the <a/> must come), otherwise
 * an XEP-0199 ping (§4.1) whose id the connection remembers; any reply to it is proof of life
 * (§6), service-unavailable means "alive, no ping support" (ping.ts).
 */
import type { BoundSession } from './bound-session.js';
import type { ConnectionDeps } from './connection-types.js';
import { matchIqResult, pingXml } from './fast-pong.js';
import { classifyPingReply, notePing, takePing } from './ping.js';
import { R_XML } from './stream-mgmt/protocol.js';
import type { XmlEl } from './xml.js';

/** What the probe needs of the connection. */
export interface PingHost {
  readonly deps: ConnectionDeps;
  /** Ids of our unanswered pings, oldest first (at most 8; allocated at the first ping). */
  pendingPings: string[] | null;
  write(data: string): void;
}

/** Probe `s`: <r/> under stream management, else a ping (a prebuilt string, the id spliced in). */
export function sendProbe(c: PingHost, s: BoundSession): void {
  const sm = s.sm;
  if (sm !== null) {
    sm.probing = true;
    sm.reqAt = sm.outN;
    return c.write(R_XML);
  }
  const id = c.deps.newPingId();
  c.pendingPings = notePing(c.pendingPings, id);
  c.deps.counters.stanzasOut.inc();
  c.write(pingXml(s.host, s.jid, id));
}

/** Is `el` (a stanza from the client) the answer to one of our pings? Then it is reported, and handled. */
export function answersPing(c: PingHost, s: BoundSession, el: XmlEl): boolean {
  const id = el.attrs.id;
  const type = el.attrs.type;
  if (el.name !== 'iq' || id === undefined || (type !== 'result' && type !== 'error') || !takePing(c.pendingPings, s, id, el.attrs.to)) return false;
  s.handle?.answered(classifyPingReply(el));
  return true;
}

/**
 * A read that is exactly the answer to our ping (the caller checked that the parser sits between
 * stanzas): the same outcome as the parser path (touch, pong) without parsing (fast-pong.ts).
 */
export function fastPong(c: PingHost, s: BoundSession, chunk: Buffer): boolean {
  const h = s.handle;
  if (!h || c.pendingPings === null || c.pendingPings.length === 0) return false;
  const r = matchIqResult(chunk);
  if (r === null || !takePing(c.pendingPings, s, r.id, r.to)) return false;
  c.deps.counters.stanzasIn.inc();
  c.deps.counters.fastPongs.inc();
  s.sm?.handled();
  h.touch();
  h.answered('pong');
  return true;
}
