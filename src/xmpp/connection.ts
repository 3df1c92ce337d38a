/**
 * One c2s connection: the thin layer between a Duplex and the pure parts. It feeds parser events
 * to the stream machine (negotiation.ts), carries out its effects (write, STARTTLS upgrade,
 * parser reset, bind, close), and once bound hands stanzas to stanzas.ts and keeps the liveness
 * core informed: track on bind, touch on every client stanza, probe = XEP-0199 IQ ping,
 * kill = stream error, untrack with the reason when the stream ends.
 *
 * Cheap paths: the writes of one input chunk leave in one socket write; a PLAIN password is
 * checked on the thread pool while input is held (hold/release, also used by the failed-auth
 * delay); a read that is exactly the answer to our ping skips the parser (fast-pong.ts).
 *
 * Works over any Duplex (tests use an in-memory pair); STARTTLS needs a net.Socket and a
 * SecureContext (tls.TLSSocket upgrade on the same socket, RFC 6120 §5.4.3.3).
 */
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { normaliseResource } from '../jid.js';
import type { DisconnectReason, LivenessHandle } from '../liveness/types.js';
import type { TimerHandle } from '../time/scheduler.js';
import { type Connection, type ConnectionDeps, KILL_CONDITION } from './connection-types.js';
import { matchIqResult, pingXml } from './fast-pong.js';
import { type NegotiationCtx, type NegotiationEffect, header, initialState, step } from './negotiation.js';
import { classifyPingReply } from './ping.js';
import { type C2sSession, newPresenceState } from './session.js';
import { handleClientStanza, handleSessionEnd } from './stanzas.js';
import { type StreamErrorCondition, streamError } from './stream-errors.js';
import { type XmlEl, serialize } from './xml.js';
import { createXmlStreamParser, type XmlStreamParser } from './xml-stream.js';

export { KILL_CONDITION } from './connection-types.js';
export type { Connection, ConnectionDeps } from './connection-types.js';

export function startConnection(socket: Duplex, deps: ConnectionDeps): Connection {
  let io: Duplex = socket;
  let state = initialState();
  let parser: XmlStreamParser = createXmlStreamParser({ maxStanzaBytes: deps.maxStanzaBytes(null) });
  let session: C2sSession | null = null;
  let handle: LivenessHandle | null = null;
  let endReason: DisconnectReason | null = null;
  let ended = false;
  let closing = false;
  let discardRest = false;
  let mechanism: string | null = null;
  /** Our header of the current stream was sent (false again after a restart). */
  let headerSent = false;
  /** Ids of our unanswered pings, oldest first (at most 8; allocated at the first ping). */
  let pendingPings: string[] | null = null;
  /** Output of the current input chunk (or release of held input), written at its end in one piece. */
  let out = '';
  let batching = false;
  /** Stream restarts so far: held input from before a restart is void (its parser is gone). */
  let resets = 0;
  const ctx: NegotiationCtx = {
    ...deps.negotiation,
    tlsAvailable: socket instanceof Socket,
    admit: deps.admit,
  };
  let handshakeTimer: TimerHandle | null = deps.scheduler.setTimer(deps.handshakeTimeoutMs(null), () => feed({ type: 'handshake-timeout' }));
  let graceTimer: TimerHandle | null = null;
  let authDelayTimer: TimerHandle | null = null;
  /** Inputs that arrived while a SASL failure answer is held back (failed-auth delay). */
  let held: Parameters<typeof step>[1][] | null = null;

  const write = (data: string) => {
    if (batching) out += data;
    else push(data);
  };
  const flushOut = () => {
    if (out === '') return;
    const data = out;
    out = '';
    push(data);
  };
  /** Run `fn` with its writes joined into one socket write (one syscall). */
  const batch = (fn: () => void) => {
    batching = true;
    try {
      fn();
    } finally {
      batching = false;
      flushOut();
    }
  };
  const push = (data: string) => {
    if (!io.writable || io.destroyed) return;
    // A reader that does not keep up must not make us buffer without end (max_send_buffer).
    if (io.writableLength > deps.maxSendBuffer(state.host)) {
      deps.counters.limitHits.inc({ limit: 'max_send_buffer' });
      deps.logger.info({ event: 'xmpp_limit_max_send_buffer', ip: deps.remoteAddress, buffered: io.writableLength }, 'xmpp_limit_max_send_buffer');
      endReason ??= 'socket_error';
      finishSession(endReason);
      closing = true;
      io.destroy();
      return;
    }
    io.write(data);
  };
  const sendEl = (el: XmlEl) => {
    if (closing) return;
    deps.counters.stanzasOut.inc();
    write(serialize(el));
  };

  const finishSession = (reason: DisconnectReason) => {
    if (!session) return;
    const s = session;
    const h = handle;
    session = null;
    handle = null;
    try {
      handleSessionEnd(deps.world, s);
    } catch (err) {
      deps.logger.error({ event: 'xmpp_internal_error', err }, 'xmpp_internal_error');
    } finally {
      deps.world.router.unbind(s);
      h?.untrack(reason);
    }
  };

  const close = (reason: DisconnectReason, error: StreamErrorCondition | null, text?: string) => {
    if (closing) return;
    endReason = reason;
    // Unavailable reaches watchers at once, not when the TCP close completes.
    finishSession(reason);
    // §4.9.1.2: a stream error needs an open stream, so send our header first when there is none.
    const open = headerSent ? '' : header(state.host ?? deps.negotiation.defaultHost, deps.negotiation.newStreamId());
    write(`${open}${error ? serialize(streamError(error, text)) : ''}</stream:stream>`);
    flushOut();
    closing = true;
    if (error) deps.counters.streamErrors.inc({ condition: error });
    io.end();
    graceTimer = deps.scheduler.setTimer(deps.closeGraceMs ?? 2_000, () => io.destroy());
  };

  const bind = (id: string | undefined, resource: string | null) => {
    const host = state.host ?? '';
    const user = state.user ?? '';
    let res: string;
    try {
      // RFC 6120 §7.7.2.1: a resource that is not a valid resourcepart is a bad-request.
      res = normaliseResource(resource ?? deps.newResource());
    } catch {
      return feed({ type: 'bind-failed', id, condition: 'bad-request' });
    }
    const bare = `${user}@${host}`;
    const jid = `${bare}/${res}`;
    const s: C2sSession = {
      jid,
      bare,
      user,
      host,
      ref: null,
      presence: newPresenceState(),
      interested: false,
      send: sendEl,
      kill: (reason) => close(reason, KILL_CONDITION[reason]),
    };
    const old = deps.world.router.bind(s);
    session = s;
    // A takeover: the new generation supersedes the old handle in the registry (no offline/online pair).
    handle = deps.liveness.track({ host, transport: 'xmpp', id: jid }, adapter, { onIdle: 'probe' });
    s.ref = handle.ref;
    deps.world.setMeta(handle.ref, { ip: deps.remoteAddress, tls: state.secure, sasl_mechanism: mechanism, resource: res });
    old?.kill('taken_over');
    handshakeTimer?.cancel();
    handshakeTimer = null;
    feed({ type: 'bound', id, jid });
  };

  const adapter = {
    probe: () => {
      if (!session || closing) return;
      const id = deps.newPingId();
      pendingPings ??= [];
      pendingPings.push(id);
      if (pendingPings.length > 8) pendingPings.shift();
      deps.counters.stanzasOut.inc();
      write(pingXml(session.host, session.jid, id));
    },
    kill: (_ref: unknown, reason: DisconnectReason) => close(reason, KILL_CONDITION[reason]),
  };

  const onStanza = (el: XmlEl) => {
    const s = session;
    if (!s) return;
    deps.counters.stanzasIn.inc();
    handle?.touch();
    const id = el.attrs.id;
    if (el.name === 'iq' && id !== undefined && (el.attrs.type === 'result' || el.attrs.type === 'error') && takePing(s, id, el.attrs.to)) {
      handle?.answered(classifyPingReply(el));
      return;
    }
    handleClientStanza(deps.world, s, el);
  };

  /** Is this the answer to one of our pings (id pending, addressed to us)? Then it is no longer pending. */
  const takePing = (s: C2sSession, id: string, to: string | undefined): boolean => {
    const at = pendingPings?.indexOf(id) ?? -1;
    if (at === -1 || !(to === undefined || to === s.host || to === s.bare)) return false;
    pendingPings?.splice(at, 1);
    return true;
  };

  /**
   * A read that is exactly the answer to our ping, while the parser sits between stanzas: the
   * same outcome as the parser path (touch, pong) without parsing (XEP-0199 §4.1, see fast-pong.ts).
   */
  const fastPong = (chunk: Buffer): boolean => {
    const s = session;
    if (!s || !handle || pendingPings === null || pendingPings.length === 0 || held !== null || !parser.atBoundary()) return false;
    const r = matchIqResult(chunk);
    if (r === null || !takePing(s, r.id, r.to)) return false;
    deps.counters.stanzasIn.inc();
    deps.counters.fastPongs.inc();
    handle.touch();
    handle.answered('pong');
    return true;
  };

  const apply = (effects: NegotiationEffect[]) => {
    for (const e of effects) {
      switch (e.kind) {
        case 'send':
          if (e.data.includes('<stream:stream')) headerSent = true;
          write(e.data);
          break;
        case 'starttls':
          flushOut(); // <proceed/> goes out in the clear, before the handshake
          upgrade();
          break;
        case 'verify-password':
          verify(e.host, e.user, e.password);
          break;
        case 'reset-parser':
          resets++;
          headerSent = false;
          parser = createXmlStreamParser({ maxStanzaBytes: deps.maxStanzaBytes(state.host) });
          discardRest = true;
          break;
        case 'authenticated':
          mechanism = e.mechanism;
          deps.logger.info({ event: 'xmpp_auth_ok', user: e.user, host: state.host, mechanism: e.mechanism }, 'xmpp_auth_ok');
          break;
        case 'auth-failed':
          deps.counters.authFailures.inc({ condition: e.condition });
          deps.logger.info({ event: 'xmpp_auth_failed', host: state.host, condition: e.condition }, 'xmpp_auth_failed');
          break;
        case 'bind':
          bind(e.id, e.resource);
          break;
        case 'stanza':
          onStanza(e.el);
          break;
        case 'close':
          close(e.reason, e.error, e.text);
          break;
      }
    }
  };

  function feed(input: Parameters<typeof step>[1]): void {
    if (held) {
      held.push(input);
      return;
    }
    if (input.type === 'handshake-timeout' && state.phase !== 'bound') deps.counters.limitHits.inc({ limit: 'handshake_timeout' });
    if (input.type === 'parse-error' && input.condition === 'policy-violation') deps.counters.limitHits.inc({ limit: 'max_stanza_size' });
    const r = step(state, input, ctx);
    state = r.state;
    const delay = r.effects.some((e) => e.kind === 'auth-failed') ? deps.authFailureDelayMs(state.host) : 0;
    if (delay <= 0) return apply(r.effects);
    // Failed-auth delay: hold the answer and read nothing more from this connection until then.
    deps.counters.limitHits.inc({ limit: 'auth_failure_delay' });
    hold();
    authDelayTimer = deps.scheduler.setTimer(delay, () => {
      authDelayTimer = null;
      release(() => apply(r.effects));
    });
  }

  /** Queue every input from now on and stop reading until `release`. */
  function hold(): void {
    held = [];
    io.pause();
  }

  /** Run `first` (off the data path), then the inputs held meanwhile, in order; read again. */
  function release(first: () => void): void {
    const later = held ?? [];
    held = null;
    const restarts = resets;
    batch(() => {
      try {
        first();
        for (const i of later) {
          // A stream restart voids what the old parser produced (as discardRest does in onData).
          if (resets !== restarts && i.type !== 'handshake-timeout') continue;
          feed(i);
        }
      } catch (err) {
        // Off the data path now: a failure here must still end only this connection.
        deps.logger.error({ event: 'xmpp_internal_error', err }, 'xmpp_internal_error');
        close('protocol_error', 'internal-server-error');
      }
    });
    if (!closing && held === null) io.resume();
  }

  /** RFC 4616 §2 PLAIN password check on the thread pool; input waits meanwhile (RFC 6120 §6.4.5). */
  function verify(host: string, user: string, password: string): void {
    hold();
    deps.checkPassword(host, user, password).then(
      (ok) => {
        if (!ended && !closing) release(() => feed({ type: 'password-checked', ok }));
      },
      (err: unknown) => {
        if (ended || closing) return;
        release(() => {
          deps.logger.error({ event: 'xmpp_internal_error', err }, 'xmpp_internal_error');
          close('protocol_error', 'internal-server-error');
        });
      },
    );
  }

  const onData = (chunk: Buffer) => {
    if (closing || fastPong(chunk)) return;
    batching = true;
    try {
      const events = parser.write(chunk);
      discardRest = false;
      for (const ev of events) {
        if (discardRest || closing) break;
        if (ev.type === 'open') {
          feed({ type: 'open', name: ev.name, attrs: ev.attrs });
          // The header named the host: its max_stanza_size applies from now on, before SASL too.
          if (state.host) parser.setMaxStanzaBytes(deps.maxStanzaBytes(state.host));
        } else if (ev.type === 'stanza') feed({ type: 'stanza', el: ev.el });
        else if (ev.type === 'close') feed({ type: 'close' });
        else feed({ type: 'parse-error', condition: ev.condition, text: ev.text });
      }
    } catch (err) {
      // A bug or a store failure ends this connection only, never the process.
      deps.logger.error({ event: 'xmpp_internal_error', err }, 'xmpp_internal_error');
      close('protocol_error', 'internal-server-error');
    } finally {
      batching = false;
      flushOut();
    }
  };

  function upgrade(): void {
    const secureContext = deps.secureContextFor(state.host ?? '');
    if (!secureContext) return;
    io.removeListener('data', onData);
    io.removeListener('end', onPeerEnd);
    io.removeListener('close', onClose);
    io.removeListener('error', onError);
    // The TLS socket reports errors from now on; never let the raw socket throw an unhandled one.
    io.on('error', () => undefined);
    const tlsSocket = new TLSSocket(io as never, { isServer: true, secureContext });
    io = tlsSocket;
    attach();
  }

  const onPeerEnd = () => {
    if (!closing) {
      endReason ??= session ? 'socket_error' : 'client_close';
      closing = true;
      finishSession(endReason);
      io.end();
    }
  };
  const onError = (err: Error) => {
    deps.logger.debug({ event: 'xmpp_socket_error', err: err.message }, 'xmpp_socket_error');
    endReason ??= 'socket_error';
  };
  const onClose = () => {
    if (ended) return;
    ended = true;
    closing = true;
    handshakeTimer?.cancel();
    graceTimer?.cancel();
    authDelayTimer?.cancel();
    finishSession(endReason ?? 'socket_error');
    deps.onEnd(conn);
  };
  function attach(): void {
    io.on('data', onData);
    io.on('end', onPeerEnd);
    io.on('error', onError);
    io.on('close', onClose);
  }
  attach();

  const conn: Connection = {
    get session() {
      return session;
    },
    get phase() {
      return state.phase;
    },
    kill: (reason) => close(reason, KILL_CONDITION[reason]),
  };
  return conn;
}
