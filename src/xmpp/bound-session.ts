/**
 * A bound resource's session (RFC 6120 §7): the part of a c2s connection that outlives its socket
 * when the client enabled resumption (XEP-0198 §5). It owns the bound JID, the presence and roster
 * interest, the liveness handle (one generation for its whole life), the stream management state
 * (counters and unacknowledged stanzas) and the CSI queue; the connection (connection.ts) owns the
 * socket, the parser and the stream negotiation, and is this session's `link` while attached.
 *
 * Its link, one field:
 *   attached(c) --c drops without </stream:stream> (socket loss, ping timeout), resumable-->
 *               detached: liveness `resumable` until resume_timeout, stanzas queue up unsent
 *   detached --<resume/> on connection d--> attached(d): liveness active, same generation, the
 *               unacknowledged stanzas sent again, presence not broadcast again (§5)
 *   attached(c) --<resume/> on d while c is open--> attached(d), c closed with `conflict` (§5)
 *   attached | detached --end(reason)--> ended: unavailable broadcast, unbound, untracked, the
 *               unacknowledged stanzas routed (resend_on_timeout)
 * A connection tells the session apart from one it no longer holds by `link === this`.
 */
import type { Logger } from 'pino';
import type { HostSettings } from '../host-settings.js';
import type { DisconnectReason, EndpointRef, LivenessAdapter, LivenessHandle, LivenessRegistry, TrackOptions } from '../liveness/types.js';
import type { Meta } from '../presence/types.js';
import type { Clock } from '../time/clock.js';
import { type C2sSession, type PresenceState, newPresenceState } from './c2s-session.js';
import { CSI_QUEUE_MAX, CsiQueue, type Held } from './csi.js';
import { withDelay } from './delay.js';
import type { XmppCounters } from './metrics.js';
import { handleSessionEnd } from './stanzas.js';
import type { SmRegistry } from './stream-mgmt/registry.js';
import type { SmState } from './stream-mgmt/sm-state.js';
import { routeUnacked } from './stream-mgmt/unacked-routing.js';
import type { StreamErrorCondition } from './stream-errors.js';
import type { XmppWorld } from './world.js';
import type { XmlEl } from './xml.js';

/** What a session needs of the connection it is attached to (connection.ts implements it). */
export interface SessionStream {
  /** Write a stanza (counted), followed by an <r/> (XEP-0198 §4) when `requestAck`. */
  writeStanza(el: XmlEl, requestAck: boolean): void;
  /** The liveness probe: <r/> when stream management is on, else an XEP-0199 ping. */
  probe(): void;
  /** Close with the stream error of `reason`; the session then ends (or detaches, for a drop). */
  kill(reason: DisconnectReason): void;
  /** Close with `error` and `text`; the session ends with `reason`. */
  close(reason: DisconnectReason, error: StreamErrorCondition, text: string): void;
  /** Close the socket without a word: the session detaches (XEP-0198: kill "only kills the socket"). */
  drop(reason: DisconnectReason): void;
  /** A resume moved the session to another stream: close this one with `conflict` (XEP-0198 §5). */
  supersede(): void;
}

/** What every session of one XMPP service shares (engine.ts makes it once). */
export interface SessionEnv {
  readonly world: XmppWorld;
  readonly liveness: LivenessRegistry;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly counters: XmppCounters;
  /** A host's runtime settings (src/host-settings.ts): stream management, CSI, ping_interval. */
  settings(host: string): HostSettings;
  readonly resumable: SmRegistry<BoundSession>;
  /** While detached a session counts against its host's and address's connection limits. */
  holdSlot(host: string, ip: string): void;
  releaseSlot(host: string, ip: string): void;
}

/** While a client is inactive (XEP-0352) at most this many stanzas wait before the server asks for an ack (Prosody's 256). */
const INACTIVE_ACK_THRESHOLD = 256;

export class BoundSession implements C2sSession {
  ref: EndpointRef | null = null;
  handle: LivenessHandle | null = null;
  readonly presence: PresenceState = newPresenceState();
  interested = false;
  /** XEP-0198 state once the client enabled stream management. */
  sm: SmState | null = null;
  /** XEP-0352: presence held while the client is inactive; null while active. */
  csi: CsiQueue | null = null;

  constructor(
    private readonly env: SessionEnv,
    /** The connection while attached; 'detached' (resumable) or 'ended'. */
    private link: SessionStream | 'detached' | 'ended',
    readonly jid: string,
    readonly bare: string,
    readonly user: string,
    readonly host: string,
  ) {}

  /** Is `stream` the connection this session is attached to? */
  isOn(stream: SessionStream): boolean {
    return this.link === stream;
  }

  get detached(): boolean {
    return this.link === 'detached';
  }

  get ended(): boolean {
    return this.link === 'ended';
  }

  /** Can a dropped connection leave this session waiting for a resume? */
  get resumable(): boolean {
    return this.sm !== null && this.sm.id !== null;
  }

  /** Deliver a stanza to the client: held while inactive (CSI), counted and queued under stream management. */
  send(el: XmlEl): void {
    const csi = this.csi;
    if (csi !== null) {
      if (CsiQueue.holds(el) && this.env.settings(this.host).queue_presence) {
        if (csi.size >= CSI_QUEUE_MAX) this.flushHeld(csi.takeAll());
        csi.put(el, this.env.clock.now());
        return;
      }
      // Nothing of a contact overtakes its held presence (ejabberd dequeues the sender first).
      const from = el.attrs.from;
      if (csi.size > 0 && from !== undefined) this.flushHeld(csi.takeFrom(from));
    }
    this.deliver(el);
  }

  private deliver(el: XmlEl): void {
    const link = this.link;
    const sm = this.sm;
    if (sm === null) {
      if (typeof link === 'object') link.writeStanza(el, false);
      return;
    }
    if (link === 'ended') return;
    sm.sent(el, this.env.clock.now());
    if (sm.queued > this.env.settings(this.host).max_ack_queue) return this.overflow(sm);
    if (typeof link !== 'object') return; // detached: sent again on resumption
    // One request outstanding at a time (ejabberd); while inactive only once many are waiting.
    const ask = sm.reqAt < 0 && sm.queued >= (this.csi === null ? 1 : INACTIVE_ACK_THRESHOLD);
    if (ask) sm.reqAt = sm.outN;
    link.writeStanza(el, ask);
  }

  private flushHeld(held: Held[]): void {
    for (const h of held) this.deliver(withDelay(h.el, this.host, h.at, 'Client Inactive'));
  }

  /** max_ack_queue passed (ejabberd: policy-violation "Too many unacked stanzas"); the stanzas are bounced, not resent. */
  private overflow(sm: SmState): void {
    const { counters, logger } = this.env;
    sm.overflowed = true;
    counters.limitHits.inc({ limit: 'max_ack_queue' });
    logger.info({ event: 'xmpp_limit_max_ack_queue', jid: this.jid, queued: sm.queued }, 'xmpp_limit_max_ack_queue');
    const link = this.link;
    if (typeof link === 'object') link.close('protocol_error', 'policy-violation', 'too many unacknowledged stanzas');
    else this.end('protocol_error');
  }

  /** C2sSession.kill and the liveness adapter's: end the session, except that a ping timeout only drops a resumable one's socket. */
  kill(reason: DisconnectReason): void {
    const link = this.link;
    if (link === 'ended') return;
    if (link === 'detached') return this.end(reason);
    if (reason === 'ping_timeout' && this.resumable) return link.drop(reason);
    link.kill(reason);
  }

  probe(): void {
    const link = this.link;
    if (typeof link === 'object') link.probe();
  }

  /** How the liveness core checks this session: the ack timeout under stream management, the stretched interval while inactive. */
  livenessOptions(): TrackOptions {
    const set = this.env.settings(this.host);
    const opts: TrackOptions = { onIdle: 'probe' };
    if (this.sm !== null) opts.ackMs = set.ack_timeout * 1000; // ejabberd: ack_timeout replaces ping_ack_timeout
    if (this.csi !== null) opts.idleMs = (set.csi_inactive_ping_interval || 5 * set.ping_interval) * 1000;
    return opts;
  }

  /** The connection dropped without </stream:stream> (XEP-0198 §7): keep the session for its resumption time. */
  detach(ip: string): void {
    const sm = this.sm;
    if (sm === null || typeof this.link !== 'object') return;
    this.link = 'detached';
    sm.probing = false;
    sm.reqAt = -1;
    sm.rAtFlush = false;
    sm.heldIp = ip;
    this.env.holdSlot(this.host, ip);
    this.env.counters.resumable.inc();
    this.handle?.suspend(sm.resumeS * 1000);
    this.env.logger.info({ event: 'xmpp_session_detached', jid: this.jid, resume_timeout: sm.resumeS, unacked: sm.queued }, 'xmpp_session_detached');
  }

  /** A resume moved the session onto `stream` (from detached, or from another open stream, which gets `conflict`). */
  attach(stream: SessionStream): void {
    const was = this.link;
    if (was === 'ended') return;
    this.link = stream;
    const sm = this.sm;
    if (was === 'detached') {
      this.releaseHeld();
      this.handle?.resume();
    } else {
      was.supersede();
      this.handle?.touch();
    }
    if (sm !== null) {
      sm.probing = false;
      sm.reqAt = -1;
      sm.rAtFlush = false;
    }
  }

  /**
   * XEP-0352: the client says it is active or inactive (a resumed stream is active, §5.2).
   * Becoming active sends what was held first (§5.1). False when nothing changed.
   */
  setActive(active: boolean): boolean {
    const csi = this.csi;
    if (active) {
      if (csi === null) return false;
      this.csi = null;
      this.flushHeld(csi.takeAll());
      return true;
    }
    if (csi !== null) return false;
    this.csi = new CsiQueue();
    return true;
  }

  private releaseHeld(): void {
    const ip = this.sm?.heldIp ?? null;
    if (ip === null) return;
    this.sm!.heldIp = null;
    this.env.releaseSlot(this.host, ip);
    this.env.counters.resumable.dec();
  }

  /** The stanzas sent and not acknowledged, oldest first, each with a "Resent" delay (XEP-0203) when it is a message or presence. */
  unackedForResend(): XmlEl[] {
    const sm = this.sm;
    if (sm === null) return [];
    const out: XmlEl[] = [];
    for (const { el, at } of sm.queue.entries()) out.push(el.name === 'iq' ? el : withDelay(el, this.host, at, 'Resent'));
    return out;
  }

  /** End the session: unavailable goes out at once (RFC 6121 §4.5.2), then unbind, untrack, route what was not acknowledged. */
  end(reason: DisconnectReason): void {
    const link = this.link;
    if (link === 'ended') return;
    this.link = 'ended';
    if (link === 'detached') this.releaseHeld();
    const { world, logger } = this.env;
    const h = this.handle;
    try {
      handleSessionEnd(world, this);
    } catch (err) {
      logger.error({ event: 'xmpp_internal_error', err }, 'xmpp_internal_error');
    } finally {
      world.router.unbind(this);
      h?.untrack(reason);
    }
    this.csi = null;
    const sm = this.sm;
    if (sm === null) return;
    if (sm.id !== null) this.env.resumable.forget(sm.id, this.bare, reason === 'resume_timeout' ? sm.inH : null);
    const mode = sm.overflowed ? 'false' : this.env.settings(this.host).resend_on_timeout;
    routeUnacked(world, this, sm.queue.take(), mode);
  }
}

/**
 * Bind `user@host/resource` on `stream` (RFC 6120 §7): registered with the router and tracked by
 * the liveness core, `meta` (the connection's fields and the resource) in its presence row. A session bound to that JID
 * already is replaced: the new generation supersedes its handle (no offline/online pair); the
 * caller kills it with `taken_over` (stream error conflict, §7.7.2.2, resumable or not) once the
 * bind result is out, so what it hands over (unacknowledged messages) comes after that result.
 */
export function bindSession(env: SessionEnv, stream: SessionStream, user: string, host: string, resource: string, meta: Meta): { s: BoundSession; replaced: C2sSession | undefined } {
  const bare = `${user}@${host}`;
  const jid = `${bare}/${resource}`;
  const s = new BoundSession(env, stream, jid, bare, user, host);
  const old = env.world.router.bind(s);
  const handle = env.liveness.track({ host, transport: 'xmpp', id: jid }, new SessionAdapter(s), { onIdle: 'probe' });
  s.handle = handle;
  s.ref = handle.ref;
  env.world.setMeta(handle.ref, meta);
  return { s, replaced: old };
}

/** What the liveness core calls: probe and kill go to the session, which knows its connection of the moment. */
export class SessionAdapter implements LivenessAdapter {
  constructor(private readonly session: BoundSession) {}
  probe(): void {
    this.session.probe();
  }
  kill(_ep: EndpointRef, reason: DisconnectReason): void {
    this.session.kill(reason);
  }
}
