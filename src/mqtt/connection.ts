/**
 * The thin socket layer of one MQTT connection (EMQX's emqx_connection): frame bytes into packets
 * (framer.ts), decode them with the broker's shared mqtt-packet parsers (decoder.ts), hand each
 * packet to the pure channel (handlers/index.ts), carry out the effects, encode and write
 * (connection-out.ts, connection-writes.ts). It is the connection's LivenessAdapter (probe = server PINGREQ, kill =
 * DISCONNECT + close) and the session's sink: the session core (src/mqtt-session/) decides what
 * PUBLISH / PUBREL go out (window, queue, resend with DUP), the connection encodes and writes them.
 * Acknowledgements of client packets (PUBACK, PUBREC, PUBCOMP, SUBACK) go out only once the store
 * writes their handling made are durable (`whenDurable`; at once when nothing is pending).
 *
 * Nothing here decides what a packet does: PINGREQ is handlers/ping.ts's, the acks handlers/acks.ts's.
 * Once connected with a session, PINGREQ and the 2-byte PUBACK / PUBREC / PUBCOMP are read by sight
 * (a lone PINGREQ chunk is not even framed): only the decoding is skipped, the same handlers decide.
 *
 * Memory per connection: no closures of its own (socket listeners and the write flush are shared
 * functions that find the connection through a symbol on the stream), no parser, nothing of a read
 * chunk kept (CONNECT fields are copied out by the channel); framer and write queue state are
 * fields of this object; one reference to what all connections share (ConnectionDeps).
 * A CONNECT password that misses the cache is checked on the libuv pool (connect-check.ts) with
 * input held (framer.ts) and the socket paused; so is the broker's answer to `open` when it comes
 * as a promise (a cluster's claim); open and takeover follow the outcome [MQTT-3.1.4-2/3].
 * No timers here: keepalive is the liveness core's, the CONNECT timeout the transport gate's
 * (src/transport/gate.ts). Packet size: checked by the framer when the fixed header is known, before the
 * body is buffered [MQTT-3.1.2-24 v5 / §3.2.2.3.6].
 */
import type { Packet } from 'mqtt-packet';
import type { DisconnectReason, EndpointRef, LivenessHandle, Via } from '../liveness/types.js';
import { ping, viaOf, type TransportConn } from '../transport/connection.js';
import type { ChannelState, Connected, Step } from './channel.js';
import { certificateUsername, passwordCheck, withVerdict } from './connect-check.js';
import type { BrokerClient, ConnectionDeps } from './connection-deps.js';
import type { EncodeCache } from './deliver.js';
import { atBoundary, dropInput, holdInput, holding, pushBytes, releaseInput, type FrameError, type Framed } from './framer.js';
import { puback, pubcomp, pubrec } from './handlers/acks.js';
import { dispatch } from './handlers/index.js';
import { handlePingreq } from './handlers/ping.js';
import type { Delivery } from './message.js';
import { RC, disconnectCode, willOnClose } from './reason-codes.js';
import type { SessionHandle } from '../mqtt-session/session-service.js';
import type { SubOptions } from './channel-session.js';
import { attachStream, destroyStream, lingerClose, type StreamReader } from './connection-stream.js';
import { countPublish, pauseInput, PRESSURE, resumeInput, type InputOwner } from './connection-input.js';
import type { Throttled } from './backpressure.js';
import { encodeDelivery, isDurableAck, writeDelivery, writePacket } from './connection-out.js';
import { beginRead, endRead, flushWrites, queueWrite, type WriteQueue } from './connection-writes.js';

/** After a v5 DISCONNECT, how long the peer's last packets are still read (connection-stream.ts lingerClose). */
const DISCONNECT_LINGER_MS = 2_000;

function countsAuthFailure(effects: Step['effects']): boolean {
  for (const e of effects) if (e.type === 'count' && e.what === 'auth_failure') return true;
  return false;
}

export class MqttConnection implements Framed, InputOwner, WriteQueue, StreamReader, BrokerClient, Throttled {
  // Framer state (framer.ts; nothing else touches it): the unfinished packet, its fill, held input.
  pend: Buffer | null = null;
  pendFill = 0;
  held: Buffer[] | null = null;
  state: ChannelState = { phase: 'awaiting_connect' };
  session: SessionHandle<Delivery, SubOptions> | null = null;
  /** The session generation this connection opened (a late close after a takeover is ignored). */
  sessionGeneration = 0;
  handle: LivenessHandle | null = null;
  readonly openedAtMono: number;
  /** The negotiated state once CONNECT succeeded; kept after close for the will and the session. */
  negotiated: Connected | null = null;
  ended = false;
  /** Protocol level of the CONNECT packet (encodes even a refusing CONNACK right). */
  private version = 4;
  /** Username of the CONNECT packet (names the host of a refused CONNECT's failed-auth delay). */
  private connectUser: string | null = null;
  // Write queue state (connection-writes.ts; nothing else touches it): waiting writes, their bytes.
  outQ: Buffer | Buffer[] | null = null;
  outBytes = 0;
  // Input pausing after CONNECT (connection-input.ts): reasons held, PUBLISH handled in this read.
  inputPaused = 0;
  readPublishes = 0;

  constructor(
    readonly stream: TransportConn,
    readonly remoteIp: string,
    private readonly deps: ConnectionDeps,
  ) {
    this.openedAtMono = deps.wire.monoNow();
    attachStream(stream, this);
  }

  get connected(): Connected | null {
    return this.state.phase === 'connected' ? this.state : null;
  }

  /** tcp | tls | ws | wss: read from the stream (no field per connection). */
  get via(): Via {
    return viaOf(this.stream);
  }

  /** No CONNECT within connect_timeout (the transport gate's timer): close, nothing sent. */
  handshakeTimeout(): void {
    this.end('protocol_error', null, false);
  }

  /** A WebSocket Pong: the answer to our ws_ping probe (an unsolicited one proves nothing here). */
  onPong(): void {
    if (this.handle !== null && this.deps.broker.probeOf(this) === 'ws_ping') this.handle.answered('pong');
  }

  /** A read chunk (the stream's 'data'): its answers leave in one write when it is done. */
  onData(buf: Buffer): void {
    if (this.ended) return;
    const outer = beginRead(this);
    this.readPublishes = 0;
    try {
      // A lone PINGREQ at a packet boundary, the idle fleet's hot packet: framed by sight.
      if (buf.length === 2 && buf[0] === 0xc0 && buf[1] === 0x00 && atBoundary(this) && !holding(this)) this.onFrame(buf);
      else pushBytes(this, buf);
    } catch (err) {
      this.failed(err);
    } finally {
      endRead(this, outer);
    }
  }

  /** The broker's answer to `open`: the client's session and liveness handle. */
  opened(session: SessionHandle<Delivery, SubOptions>, generation: number, handle: LivenessHandle): void {
    this.session = session;
    this.sessionGeneration = generation;
    this.handle = handle;
  }

  // FrameSink ---------------------------------------------------------------------------------

  frameLimit(): number {
    const st = this.connected;
    return st ? st.policy.mqtt.max_packet_size : this.deps.wire.defaultMaxPacketSize();
  }

  framingStopped(): boolean {
    return this.ended;
  }

  onFrameError(err: FrameError): void {
    if (err === 'too_large') this.deps.broker.count('limit');
    this.end('protocol_error', err === 'too_large' ? RC.packetTooLarge : RC.malformed, true);
  }

  onFrame(frame: Buffer): void {
    const session = this.session;
    if (session !== null && this.state.phase === 'connected') {
      // Read by sight once connected with a session (the decoded way gives the same): PINGREQ, and
      // PUBACK / PUBREC / PUBCOMP of Remaining Length 2. Only the decoding is skipped: the handlers
      // (ping.ts, acks.ts) decide, the effects go the way of every packet's.
      if (frame.length === 2 && frame[0] === 0xc0) {
        this.received(false);
        return this.run(handlePingreq().effects);
      }
      const first = frame[0];
      if (frame.length === 4 && frame[1] === 2 && (first === 0x40 || first === 0x50 || first === 0x70)) {
        this.received(false);
        const id = (frame[2]! << 8) | frame[3]!;
        return this.run((first === 0x40 ? puback(session, id) : first === 0x50 ? pubrec(session, id, 0) : pubcomp(session, id)).effects);
      }
    }
    const pkt = this.deps.wire.decoder.decode(frame, this.version);
    if (pkt instanceof Error) return this.onParseError(pkt);
    this.onPacket(pkt);
  }

  private onParseError(err: Error): void {
    if (this.ended) return;
    if (this.state.phase === 'awaiting_connect' && err.message === 'Invalid protocol version') {
      // 3.1.1 §3.1.2.2: unacceptable protocol level -> CONNACK 0x01, then close [MQTT-3.1.2-2].
      queueWrite(this, Buffer.from([0x20, 0x02, 0x00, 0x01]));
    }
    this.end('protocol_error', RC.malformed, true);
  }

  /** Any packet from the client: proof of life (one field write), counted. */
  private received(publish: boolean): void {
    this.handle?.touch();
    if (publish) this.deps.wire.counters.messagesIn.value++;
    else this.deps.wire.counters.packetsIn.value++;
  }

  private onPacket(pkt: Packet): void {
    this.received(pkt.cmd === 'publish');
    const { wire, gate } = this.deps;
    let env = gate.env;
    if (pkt.cmd === 'connect' && this.state.phase === 'awaiting_connect') {
      this.version = pkt.protocolVersion ?? 4;
      if (gate.identity !== null) {
        // use_identity_as_username / use_subject_as_username: the certificate is the credential.
        const user = certificateUsername(pkt, this.stream, gate.identity);
        this.connectUser = pkt.username ?? null;
        return this.apply(dispatch(this.state, pkt, withVerdict(env, user !== null), this.session, wire.nowMs()));
      }
      this.connectUser = pkt.username ?? null;
      const c = passwordCheck(env, pkt);
      const verdict = c === null ? null : gate.passwords.checkSoon(c.host, c.user, c.password);
      if (verdict instanceof Promise) return this.awaitPassword(pkt, verdict);
      if (verdict !== null) env = withVerdict(env, verdict);
    }
    this.apply(dispatch(this.state, pkt, env, this.session, wire.nowMs()));
    if (pkt.cmd === 'publish') countPublish(this, wire.soon);
  }

  // Input pausing (connection-input.ts, backpressure.ts) ----------------------------------------

  throttle(): void {
    pauseInput(this, PRESSURE);
  }

  unthrottle(): void {
    resumeInput(this, PRESSURE, this.deps.wire.soon);
  }

  readOn(): void {
    const outer = beginRead(this);
    this.readPublishes = 0;
    try {
      this.resumeInput();
    } catch (err) {
      this.failed(err);
    } finally {
      endRead(this, outer);
    }
  }

  /** A CONNECT whose password is checked off the loop: hold input until the outcome is known. */
  private awaitPassword(pkt: Packet, verdict: Promise<boolean>): void {
    holdInput(this);
    this.stream.pause();
    verdict.then((ok) => this.passwordChecked(pkt, ok, null), (err: unknown) => this.passwordChecked(pkt, false, err));
  }

  private passwordChecked(pkt: Packet, ok: boolean, err: unknown): void {
    if (this.ended) return; // closed meanwhile (socket gone, CONNECT timeout): nothing opens
    try {
      if (err !== null) throw err;
      this.apply(dispatch(this.state, pkt, withVerdict(this.deps.gate.env, ok), this.session, this.deps.wire.nowMs()));
      // Refused: nothing more is read (the failed-auth delay keeps the socket paused until its CONNACK).
      if (this.state.phase !== 'connected') return dropInput(this);
      if (this.session === null) return; // the broker's answer to open is on its way (openSettled)
      this.resumeInput();
    } catch (e) {
      this.failed(e);
    }
  }

  /** The broker answers `open` with a promise (a cluster's claim): hold input until it settles. */
  private awaitOpen(answer: Promise<void>): void {
    holdInput(this);
    this.stream.pause();
    answer.then(() => this.openSettled(null), (err: unknown) => this.openSettled(err));
  }

  private openSettled(err: unknown): void {
    if (this.ended) return dropInput(this); // refused, or closed meanwhile (the broker gave the claim back)
    try {
      if (err !== null) throw err;
      this.resumeInput();
    } catch (e) {
      this.failed(e);
    }
  }

  /** Frame the held input, then read on (unless a new hold began). */
  private resumeInput(): void {
    releaseInput(this);
    if (!this.ended && !holding(this)) this.stream.resume();
  }

  /** A bug while handling this connection: logged, the connection closed. */
  private failed(err: unknown): void {
    this.deps.broker.internalError(this, err);
    this.end('protocol_error', RC.unspecified, true);
  }

  private apply(s: Step): void {
    if (s.next) {
      this.state = s.next;
      if (s.next.phase === 'connected') {
        this.negotiated = s.next;
        this.connectUser = null; // only a refused CONNECT needs it
      }
    }
    if (countsAuthFailure(s.effects)) {
      // Failed-auth delay: the refusing CONNACK goes out late and nothing more is read meanwhile.
      const { gate } = this.deps;
      const delay = gate.authFailureDelayMs(this.remoteIp, gate.env.resolveHost(this.connectUser).policy.host);
      if (delay > 0) {
        this.stream.pause();
        gate.later(delay, () => {
          try {
            this.run(s.effects);
          } catch (err) {
            this.failed(err);
          }
        });
        return;
      }
    }
    this.run(s.effects);
  }

  private run(effects: Step['effects']): void {
    for (const e of effects) {
      if (this.ended && e.type !== 'close') return;
      switch (e.type) {
        case 'send':
          if (isDurableAck(e.packet.cmd)) this.sendWhenDurable(e.packet);
          else this.send(e.packet);
          break;
        case 'open': {
          const answer = this.deps.broker.open(this, this.state as Connected, e.connack);
          if (answer instanceof Promise) this.awaitOpen(answer);
          break;
        }
        case 'route':
          this.deps.broker.route(this, e.msg);
          break;
        case 'subscribed':
          // After the SUBACK, which may wait for durability: retained messages follow it.
          this.deps.broker.whenDurable(() => {
            if (!this.ended) this.deps.broker.subscribed(this, e.subs);
          });
          break;
        case 'unsubscribed':
          this.deps.broker.unsubscribed(this, e.filters);
          break;
        case 'pong':
          this.handle?.answered('pong');
          break;
        case 'count':
          this.deps.broker.count(e.what);
          break;
        case 'close':
          if (e.sessionExpiryS !== undefined && this.negotiated) this.negotiated.sessionExpiryS = e.sessionExpiryS;
          this.end(e.reason, e.code, e.will);
          break;
      }
    }
  }

  send(packet: Packet): void {
    writePacket(this, packet, this.version);
  }

  private sendWhenDurable(packet: Packet): void {
    // A v5 client's PUBLISH stays unacknowledged against the Receive Maximum until its PUBACK / PUBCOMP is written.
    const quota = packet.cmd === 'puback' || packet.cmd === 'pubcomp' ? (this.negotiated?.quota ?? null) : null;
    if (quota) quota.owed++;
    this.deps.broker.whenDurable((err) => {
      if (quota) quota.owed--;
      if (this.ended) return;
      if (!err) return this.send(packet);
      this.failed(err); // not durable: never acknowledge; the client resends after reconnecting
    });
  }

  /** A QoS 0 delivery to this online client, at once (the EncodeCache fast path). */
  deliverQos0(d: Delivery, cache: EncodeCache | null): void {
    const st = this.connected;
    if (!st || this.ended) return;
    if (this.stream.writableLength + this.outBytes > st.policy.mqtt.max_send_buffer) {
      this.deps.wire.counters.dropped.value++;
      return;
    }
    const buf = cache && d.subIds === null && st.aliasesOut === null ? cache.get(st.version, d) : encodeDelivery(st, d, 0, false, this.deps.wire.nowMs());
    if (buf) writeDelivery(this, st, buf, this.deps.wire.counters);
  }

  /** One delivery: QoS 0 at once, QoS 1/2 through the session (window, queue). */
  deliver(d: Delivery, cache: EncodeCache | null): void {
    if (d.qos === 0) return this.deliverQos0(d, cache);
    this.session?.deliver(d);
  }

  // SessionSink -------------------------------------------------------------------------------

  publish(id: number, d: Delivery, dup: boolean): void {
    const st = this.connected;
    if (!st || this.ended) return;
    if (id === 0) return this.deliverQos0(d, null);
    const buf = encodeDelivery(st, d, id, dup, this.deps.wire.nowMs());
    if (buf) writeDelivery(this, st, buf, this.deps.wire.counters);
    else this.deps.wire.counters.dropped.value++; // expired on the way out
  }

  pubrel(id: number, reasonCode: number): void {
    if (this.ended) return;
    const v5 = this.connected?.version === 5;
    this.send(v5 && reasonCode !== 0 ? { cmd: 'pubrel', messageId: id, reasonCode } : { cmd: 'pubrel', messageId: id });
  }

  /**
   * End the connection once: optional v5 DISCONNECT, close the socket, tell the broker (which
   * publishes the will, untracks and releases the client id).
   */
  end(reason: DisconnectReason, code: number | null, will: boolean): void {
    if (this.ended) return;
    this.ended = true;
    const st = this.negotiated;
    // DISCONNECT is server to client in v5 only (v3 §2.2.1: client to server).
    if (code !== null && st && st.version === 5) this.send({ cmd: 'disconnect', reasonCode: code });
    this.state = { phase: 'closed' };
    if (!this.stream.destroyed) {
      flushWrites(this);
      if (code !== null && st && st.version === 5) lingerClose(this.stream, this.deps.gate.later, DISCONNECT_LINGER_MS);
      else this.stream.once('finish', destroyStream);
      this.stream.end();
    }
    this.deps.broker.closed(this, reason, will);
  }

  // LivenessAdapter ---------------------------------------------------------------------------

  probe(_ep: EndpointRef): void {
    // mqtt_probe ws_ping: a WebSocket Ping (RFC 6455 §5.5.2), answered by the client's WebSocket layer.
    if (this.deps.broker.probeOf(this) === 'ws_ping' && ping(this.stream)) return;
    this.send({ cmd: 'pingreq' });
  }

  kill(_ep: EndpointRef, reason: DisconnectReason): void {
    this.end(reason, disconnectCode(reason), willOnClose(reason));
  }

  canProbe(_ep: EndpointRef): true | string {
    return this.deps.broker.probeable(this);
  }
}
