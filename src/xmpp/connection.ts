/**
 * One c2s connection: the thin layer between a Duplex and the pure parts. It feeds parser events
 * to the stream machine (negotiation.ts), carries out its effects (write, STARTTLS upgrade,
 * parser reset, bind, close), and once bound hands stanzas to stanzas.ts and keeps the liveness
 * core informed: track on bind, touch on every client stanza, probe = XEP-0199 IQ ping (or <r/>
 * under XEP-0198 stream management), kill = stream error, untrack with the reason when it ends.
 * XEP-0198/XEP-0352 nonzas and <resume/> go to connection-sm.ts.
 *
 * Its life is one field, `life` (lifecycle.ts draws the moves). The session (bound-session.ts)
 * is let go exactly once, on the way out of the open phases (finishSession): ended, or, when the
 * stream ends uncleanly and the client enabled resumption, detached to wait for a <resume/>.
 *
 * Cheap paths: the writes of one input chunk leave in one socket write; a PLAIN password is
 * checked on the thread pool while input is held (hold/release, also used by the failed-auth
 * delay); a read that is exactly the answer to our ping skips the parser (fast-pong.ts).
 * Per-session memory: one object with its state in fields and its code on the prototype; the
 * socket listeners are shared by all connections (connection-glue.ts).
 *
 * Works over any Duplex (tests use an in-memory pair); STARTTLS needs a net.Socket and a
 * SecureContext (tls.TLSSocket upgrade on the same socket, RFC 6120 §5.4.3.3).
 */
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { normaliseResource } from '../jid.js';
import type { DisconnectReason } from '../liveness/types.js';
import type { TimerHandle } from '../time/scheduler.js';
import type { Meta } from '../presence/types.js';
import { type BoundSession, type SessionStream, bindSession } from './bound-session.js';
import { type ConnectionHooks, attachSocket, upgradeToTls } from './connection-glue.js';
import { type PingHost, answersPing, fastPong, sendProbe } from './connection-ping.js';
import { type SmHost, onBoundNonza, onResume } from './connection-sm.js';
import { type Connection, type ConnectionDeps, KILL_CONDITION } from './connection-types.js';
import { AWAITING_HEADER, type Closing, type Lifecycle, type LifecyclePhase, STREAMING, isOpen, moved } from './lifecycle.js';
import { type NegotiationCtx, type NegotiationEffect, type NegotiationInput, type NegotiationState, header, initialState, step } from './negotiation.js';
import { handleClientStanza } from './stanzas.js';
import { R_XML } from './stream-mgmt/protocol.js';
import { type StreamErrorCondition, streamError } from './stream-errors.js';
import { type XmlEl, serialize } from './xml.js';
import { createXmlStreamParser, type XmlStreamParser } from './xml-stream.js';

export { KILL_CONDITION } from './connection-types.js';
export type { Connection, ConnectionDeps } from './connection-types.js';

export function startConnection(socket: Duplex, deps: ConnectionDeps): Connection {
  return new C2sConnection(socket, deps);
}

class C2sConnection implements Connection, ConnectionHooks, SessionStream, SmHost, PingHost {
  private io: Duplex;
  private life: Lifecycle = AWAITING_HEADER;
  private state: NegotiationState = initialState();
  private parser: XmlStreamParser;
  session: BoundSession | null = null;
  private mechanism: string | null = null;
  /** Ids of our unanswered pings, oldest first (at most 8; allocated at the first ping). */
  pendingPings: string[] | null = null;
  /** Output of the current input chunk (or release of held input), written at its end in one piece; null outside one. */
  private out: string | null = null;
  /** Stream restarts so far: input parsed before a restart is void (its parser is gone). */
  private resets = 0;
  private readonly ctx: NegotiationCtx;
  private handshakeTimer: TimerHandle | null;
  private authDelayTimer: TimerHandle | null = null;
  /** Inputs that arrived while input is held (password check, failed-auth delay). */
  private held: NegotiationInput[] | null = null;

  constructor(
    socket: Duplex,
    readonly deps: ConnectionDeps,
  ) {
    this.io = socket;
    this.parser = createXmlStreamParser({ maxStanzaBytes: deps.maxStanzaBytes(null) });
    this.ctx = { ...deps.negotiation, tlsAvailable: socket instanceof Socket };
    this.handshakeTimer = deps.scheduler.setTimer(deps.handshakeTimeoutMs(null), () => this.feed({ type: 'handshake-timeout' }));
    attachSocket(socket, this);
  }

  get phase(): NegotiationState['phase'] {
    return this.state.phase;
  }

  get lifecycle(): LifecyclePhase {
    return this.life.phase;
  }

  private get open(): boolean {
    return isOpen(this.life);
  }

  private moveTo(next: Lifecycle): void {
    this.life = moved(this.life, next);
  }

  kill(reason: DisconnectReason): void {
    this.close(reason, KILL_CONDITION[reason]);
  }

  /** The socket goes without a word (a dead-looking peer); a resumable session detaches (XEP-0198). */
  drop(reason: DisconnectReason): void {
    if (!this.open) return;
    this.moveTo({ phase: 'closing', reason, grace: null });
    this.finishSession(reason);
    this.io.destroy();
  }

  /** XEP-0198 §5: the session was resumed on another stream; this one gets `conflict` and lets it go. */
  supersede(): void {
    this.session = null;
    this.close('taken_over', 'conflict', 'the session was resumed on another stream');
  }

  get account(): string | null {
    const { host, user } = this.state;
    return host !== null && user !== null ? `${user}@${host}` : null;
  }

  connMeta(): Meta {
    return { ip: this.deps.remoteAddress, tls: this.state.secure, sasl_mechanism: this.mechanism };
  }

  /** `s` is this stream's session now (bound, or resumed: XEP-0198 §5); the handshake is over. */
  adopt(s: BoundSession, input: NegotiationInput = { type: 'resumed' }): void {
    this.session = s;
    this.handshakeTimer?.cancel();
    this.handshakeTimer = null;
    this.feed(input);
  }

  write(data: string): void {
    if (this.out !== null) this.out += data;
    else this.push(data);
  }

  private flushOut(): void {
    const sm = this.session?.sm;
    if (sm?.rAtFlush) {
      // One <r/> after the stanzas of this write (XEP-0198 §4), not one per stanza.
      sm.rAtFlush = false;
      this.out = `${this.out ?? ''}${R_XML}`;
    }
    if (!this.out) return;
    const data = this.out;
    this.out = '';
    this.push(data);
  }

  private push(data: string): void {
    const io = this.io;
    if (!io.writable || io.destroyed) return;
    // A reader that does not keep up must not make us buffer without end (max_send_buffer).
    if (io.writableLength > this.deps.maxSendBuffer(this.state.host)) {
      this.deps.counters.limitHits.inc({ limit: 'max_send_buffer' });
      this.deps.logger.info({ event: 'xmpp_limit_max_send_buffer', ip: this.deps.remoteAddress, buffered: io.writableLength }, 'xmpp_limit_max_send_buffer');
      if (this.open) {
        this.finishSession('socket_error');
        this.moveTo({ phase: 'closing', reason: 'socket_error', grace: null });
      }
      io.destroy();
      return;
    }
    io.write(data);
  }

  writeStanza(el: XmlEl, requestAck: boolean): void {
    if (!this.open) return;
    this.deps.counters.stanzasOut.inc();
    const xml = serialize(el);
    if (!requestAck) return this.write(xml);
    const sm = this.session?.sm;
    if (this.out !== null && sm) sm.rAtFlush = true;
    this.write(this.out !== null && sm ? xml : xml + R_XML);
  }

  /** Let the session go: ended, or detached when the stream ended uncleanly and it can be resumed (XEP-0198 §7). */
  private finishSession(reason: DisconnectReason): void {
    const s = this.session;
    if (!s) return;
    this.session = null;
    if (!s.isOn(this)) return; // resumed on another stream meanwhile
    if ((reason === 'socket_error' || reason === 'ping_timeout') && s.resumable) s.detach(this.deps.remoteAddress);
    else s.end(reason);
  }

  close(reason: DisconnectReason, error: StreamErrorCondition | null, text?: string, extra?: XmlEl): void {
    if (!this.open) return;
    const { deps } = this;
    // Unavailable reaches watchers at once, not when the TCP close completes.
    this.finishSession(reason);
    // §4.9.1.2: a stream error needs an open stream, so send our header first when there is none.
    const open = this.life.phase === 'streaming' ? '' : header(this.state.host ?? deps.negotiation.defaultHost, deps.negotiation.newStreamId());
    this.write(`${open}${error ? serialize(streamError(error, text, extra)) : ''}</stream:stream>`);
    this.flushOut();
    if (error) deps.counters.streamErrors.inc({ condition: error });
    // The write may have found the reader too slow and destroyed the socket (push): closing already.
    if (!this.open) return;
    const closing: Closing = { phase: 'closing', reason, grace: null };
    this.moveTo(closing);
    this.io.end();
    closing.grace = deps.scheduler.setTimer(deps.closeGraceMs, () => this.io.destroy());
  }

  private bind(id: string | undefined, resource: string | null): void {
    let res: string;
    try {
      // RFC 6120 §7.7.2.1: a resource that is not a valid resourcepart is a bad-request.
      res = normaliseResource(resource ?? this.deps.newResource());
    } catch {
      return this.feed({ type: 'bind-failed', id, condition: 'bad-request' });
    }
    // One literal (not a spread of connMeta()): the presence table keeps it with its properties in the object.
    const meta = { ip: this.deps.remoteAddress, tls: this.state.secure, sasl_mechanism: this.mechanism, resource: res };
    const { s, replaced } = bindSession(this.deps.session, this, this.state.user ?? '', this.state.host ?? '', res, meta);
    this.adopt(s, { type: 'bound', id, jid: s.jid });
    replaced?.kill('taken_over');
  }

  probe(): void {
    const s = this.session;
    if (s && this.open) sendProbe(this, s);
  }

  private onStanza(el: XmlEl): void {
    const s = this.session;
    if (!s) return;
    this.deps.counters.stanzasIn.inc();
    s.handle?.touch();
    s.sm?.handled();
    if (!answersPing(this, s, el)) handleClientStanza(this.deps.world, s, el);
  }

  /** A read that is exactly the answer to our ping, while the parser sits between stanzas (fast-pong.ts). */
  private fastPong(chunk: Buffer): boolean {
    const s = this.session;
    return s !== null && this.held === null && this.parser.atBoundary() && fastPong(this, s, chunk);
  }

  private apply(effects: NegotiationEffect[]): void {
    const { deps } = this;
    for (const e of effects) {
      switch (e.kind) {
        case 'open':
          this.write(e.data);
          if (this.life.phase === 'awaiting-header') this.moveTo(STREAMING);
          break;
        case 'send':
          this.write(e.data);
          break;
        case 'admit':
          this.feed({ type: 'admission', ok: deps.admit(e.host) });
          break;
        case 'starttls':
          this.flushOut(); // <proceed/> goes out in the clear, before the handshake
          this.io = upgradeToTls(this.io, this.deps.secureContextFor(this.state.host ?? ''), this);
          break;
        case 'verify-password':
          this.verify(e.host, e.user, e.password);
          break;
        case 'reset-parser':
          this.resets++;
          if (this.life.phase === 'streaming') this.moveTo(AWAITING_HEADER);
          this.parser = createXmlStreamParser({ maxStanzaBytes: deps.maxStanzaBytes(this.state.host) });
          break;
        case 'authenticated':
          this.mechanism = e.mechanism;
          deps.logger.info({ event: 'xmpp_auth_ok', user: e.user, host: this.state.host, mechanism: e.mechanism }, 'xmpp_auth_ok');
          break;
        case 'auth-failed':
          deps.counters.authFailures.inc({ condition: e.condition });
          deps.logger.info({ event: 'xmpp_auth_failed', host: this.state.host, condition: e.condition }, 'xmpp_auth_failed');
          break;
        case 'bind':
          this.bind(e.id, e.resource);
          break;
        case 'stanza':
          this.onStanza(e.el);
          break;
        case 'nonza':
          if (this.session) onBoundNonza(this, this.session, e.el);
          break;
        case 'resume':
          onResume(this, e.previd, e.h);
          break;
        case 'close':
          this.close(e.reason, e.error, e.text);
          break;
      }
    }
  }

  private feed(input: NegotiationInput): void {
    if (this.held) {
      this.held.push(input);
      return;
    }
    const { deps } = this;
    if (input.type === 'handshake-timeout' && this.state.phase !== 'bound') deps.counters.limitHits.inc({ limit: 'handshake_timeout' });
    if (input.type === 'parse-error' && input.condition === 'policy-violation') deps.counters.limitHits.inc({ limit: 'max_stanza_size' });
    const r = step(this.state, input, this.ctx);
    this.state = r.state;
    const delay = r.effects.some((e) => e.kind === 'auth-failed') ? deps.authFailureDelayMs(this.state.host) : 0;
    if (delay <= 0) return this.apply(r.effects);
    // Failed-auth delay: hold the answer and read nothing more from this connection until then.
    deps.counters.limitHits.inc({ limit: 'auth_failure_delay' });
    this.hold();
    this.authDelayTimer = deps.scheduler.setTimer(delay, () => {
      this.authDelayTimer = null;
      this.release(() => this.apply(r.effects));
    });
  }

  /** Queue every input from now on and stop reading until `release`. */
  private hold(): void {
    this.held = [];
    this.io.pause();
  }

  /** Run `first` (off the data path), then the inputs held meanwhile, in order; read again. */
  private release(first: () => void): void {
    const later = this.held ?? [];
    this.held = null;
    const restarts = this.resets;
    this.batched(() => {
      first();
      for (const i of later) {
        // A stream restart voids what the old parser produced (as in onData).
        if (this.resets !== restarts && i.type !== 'handshake-timeout') continue;
        this.feed(i);
      }
    });
    if (this.open && this.held === null) this.io.resume();
  }

  /** RFC 4616 §2 PLAIN password check on the thread pool; input waits meanwhile (RFC 6120 §6.4.5). */
  private verify(host: string, user: string, password: string): void {
    this.hold();
    this.deps.checkPassword(host, user, password).then(
      (ok) => {
        if (this.open) this.release(() => this.feed({ type: 'password-checked', ok }));
      },
      (err: unknown) => {
        if (this.open) this.release(() => this.internalError(err));
      },
    );
  }

  onData(chunk: Buffer): void {
    if (!this.open || this.fastPong(chunk)) return;
    this.batched(() => {
      const events = this.parser.write(chunk);
      const restarts = this.resets;
      for (const ev of events) {
        // A stream restart voids the rest of what the old parser produced; so does a close.
        if (this.resets !== restarts || !this.open) break;
        if (ev.type === 'open') {
          this.feed({ type: 'open', name: ev.name, attrs: ev.attrs });
          // The header named the host: its max_stanza_size applies from now on, before SASL too.
          if (this.state.host) this.parser.setMaxStanzaBytes(this.deps.maxStanzaBytes(this.state.host));
        } else if (ev.type === 'stanza') this.feed({ type: 'stanza', el: ev.el });
        else if (ev.type === 'close') this.feed({ type: 'close' });
        else this.feed({ type: 'parse-error', condition: ev.condition, text: ev.text });
      }
    });
  }

  /** Run `fn` with its writes joined into one socket write; a throw (a bug, a store failure) ends this connection only. */
  private batched(fn: () => void): void {
    this.out = '';
    try {
      fn();
    } catch (err) {
      this.internalError(err);
    } finally {
      this.flushOut();
      this.out = null;
    }
  }

  private internalError(err: unknown): void {
    this.deps.logger.error({ event: 'xmpp_internal_error', err }, 'xmpp_internal_error');
    this.close('protocol_error', 'internal-server-error');
  }

  /** The peer ended its side without closing the stream first: a bound session counts it as a socket error. */
  onPeerEnd(): void {
    if (!this.open) return;
    const reason: DisconnectReason = this.session ? 'socket_error' : 'client_close';
    this.moveTo({ phase: 'closing', reason, grace: null });
    this.finishSession(reason);
    this.io.end();
  }

  /** A socket error: logged; the socket's close follows and ends the connection. */
  onError(err: Error): void {
    this.deps.logger.debug({ event: 'xmpp_socket_error', err: err.message }, 'xmpp_socket_error');
  }

  onClose(): void {
    const life = this.life;
    if (life.phase === 'ended') return;
    const reason = life.phase === 'closing' ? life.reason : 'socket_error';
    this.moveTo({ phase: 'ended', reason });
    this.handshakeTimer?.cancel();
    if (life.phase === 'closing') life.grace?.cancel();
    this.authDelayTimer?.cancel();
    this.finishSession(reason);
    this.deps.onEnd(this);
  }
}
