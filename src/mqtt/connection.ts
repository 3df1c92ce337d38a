/**
 * The thin socket layer of one MQTT connection (EMQX's emqx_connection): frame bytes into packets
 * (framer.ts, whose state are two fields of this object), decode them with the broker's shared
 * mqtt-packet parsers (decoder.ts), hand each packet to the pure channel (handlers/index.ts),
 * carry out the effects, encode and write. It also is the connection's LivenessAdapter (probe =
 * server PINGREQ, kill = DISCONNECT + close).
 *
 * It is also the session's sink: the session core (src/mqtt-session/) decides what PUBLISH / PUBREL
 * go out (window, queue, resend with DUP) and the connection encodes and writes them.
 * Acknowledgements of client packets (PUBACK, PUBREC, PUBCOMP, SUBACK) go out only once the store
 * writes their handling made are durable (`whenDurable`; at once when nothing is pending).
 *
 * Fast paths, taken only once connected with a session (otherwise the channel decides):
 *   - a read chunk that is exactly one PINGREQ (`c0 00`) at a packet boundary: touch, count and
 *     write the shared PINGRESP [MQTT-3.12.4-1] at once (no decoder, no dispatch, no tick queue);
 *   - PINGREQ, and PUBACK / PUBREC / PUBCOMP of Remaining Length 2 (3.1.1 §3.4-3.7; in 5.0 the
 *     2-byte form means reason code 0x00 Success and no properties, §3.4.2.1) are read directly
 *     from the frame; everything else goes through mqtt-packet.
 *
 * Memory per connection: no closures of its own (socket listeners and the write flush are shared
 * functions that find the connection through a symbol on the stream), no parser, nothing of a
 * read chunk kept (CONNECT fields are copied out by the channel).
 * A CONNECT password that misses the cache is checked on the libuv pool (connect-check.ts) with
 * input held (framer.ts) and the socket paused; open and takeover follow the outcome [MQTT-3.1.4-2/3].
 * No timers here: keepalive is the liveness core's, the CONNECT timeout is one sweeper in the broker.
 * Packet size: checked by the framer when the fixed header is known, before the body is buffered
 * [MQTT-3.1.2-24 v5 / §3.2.2.3.6].
 */
import type { Duplex } from 'node:stream';
import { generate, type Packet } from 'mqtt-packet';
import type { DisconnectReason, EndpointRef, LivenessAdapter, LivenessHandle } from '../liveness/types.js';
import type { ChannelState, Connected, Step } from './channel.js';
import { passwordCheck, withVerdict } from './connect-check.js';
import type { ConnectionHost } from './connection-host.js';
import { encodePublish, type EncodeCache } from './deliver.js';
import { atBoundary, dropInput, holdInput, holding, pushBytes, releaseInput, type FrameError, type Framed } from './framer.js';
import { dispatch } from './handlers/index.js';
import type { Delivery } from './message.js';
import { RC, disconnectCode, willOnClose } from './reason-codes.js';
import type { SessionHandle, SessionSink } from '../mqtt-session/session-service.js';
import type { SubOptions } from './channel-session.js';
import { attachStream, destroyStream } from './connection-stream.js';

/** Acknowledgements that promise the client its packet is safe: sent only once durable. */
const DURABLE_ACKS = new Set(['puback', 'pubrec', 'pubcomp', 'suback']);

const PINGRESP = Buffer.from([0xd0, 0x00]);
/** CONNACK of a 3.1/3.1.1 success, without / with Session Present (3.1.1 §3.2). */
const CONNACK_V3_OK = [Buffer.from([0x20, 0x02, 0x00, 0x00]), Buffer.from([0x20, 0x02, 0x01, 0x00])] as const;

function countsAuthFailure(effects: Step['effects']): boolean {
  for (const e of effects) if (e.type === 'count' && e.what === 'auth_failure') return true;
  return false;
}
function flushConnection(conn: MqttConnection): void {
  conn.flush();
}

export class MqttConnection implements Framed, LivenessAdapter, SessionSink<Delivery> {
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
  /** Writes of this tick (see write()), and their bytes. */
  private outQ: Buffer | Buffer[] | null = null;
  private outBytes = 0;

  constructor(
    readonly stream: Duplex,
    readonly remoteIp: string,
    private readonly host: ConnectionHost,
  ) {
    this.openedAtMono = host.monoNow();
    attachStream(stream, this);
  }

  get connected(): Connected | null {
    return this.state.phase === 'connected' ? this.state : null;
  }

  /** A read chunk (the stream's 'data'). */
  onData(buf: Buffer): void {
    if (this.ended) return;
    // The idle fleet's hot packet: a lone PINGREQ at a packet boundary [MQTT-3.12.4-1].
    if (buf.length === 2 && buf[0] === 0xc0 && buf[1] === 0x00 && atBoundary(this) && this.session !== null && this.state.phase === 'connected') {
      this.handle?.touch();
      this.host.counters.packetsIn.value++;
      return this.writeFirst(PINGRESP);
    }
    try {
      pushBytes(this, buf);
    } catch (err) {
      this.host.internalError(this, err);
      this.end('protocol_error', RC.unspecified, true);
    }
  }

  // FrameSink ---------------------------------------------------------------------------------

  frameLimit(): number {
    const st = this.connected;
    return st ? st.policy.mqtt.max_packet_size : this.host.defaultMaxPacketSize();
  }

  framingStopped(): boolean {
    return this.ended;
  }

  onFrameError(err: FrameError): void {
    if (err === 'too_large') this.host.count('limit');
    this.end('protocol_error', err === 'too_large' ? RC.packetTooLarge : RC.malformed, true);
  }

  onFrame(frame: Buffer): void {
    const first = frame[0]!;
    const session = this.session;
    if (session !== null && this.state.phase === 'connected') {
      if (frame.length === 2 && first === 0xc0) {
        this.handle?.touch();
        this.host.counters.packetsIn.value++;
        return this.write(PINGRESP);
      }
      // PUBACK / PUBREC / PUBCOMP, Remaining Length 2: Packet Identifier only (the acks.ts handlers' work).
      if (frame.length === 4 && frame[1] === 2 && (first === 0x40 || first === 0x50 || first === 0x70)) {
        this.handle?.touch();
        this.host.counters.packetsIn.value++;
        const id = (frame[2]! << 8) | frame[3]!;
        if (first === 0x40) session.puback(id);
        else if (first === 0x50) session.pubrec(id, 0);
        else session.pubcomp(id);
        return;
      }
    }
    const pkt = this.host.decoder.decode(frame, this.version);
    if (pkt instanceof Error) return this.onParseError(pkt);
    this.onPacket(pkt);
  }

  private onParseError(err: Error): void {
    if (this.ended) return;
    if (this.state.phase === 'awaiting_connect' && err.message === 'Invalid protocol version') {
      // 3.1.1 §3.1.2.2: unacceptable protocol level -> CONNACK 0x01, then close [MQTT-3.1.2-2].
      this.write(Buffer.from([0x20, 0x02, 0x00, 0x01]));
    }
    this.end('protocol_error', RC.malformed, true);
  }

  private onPacket(pkt: Packet): void {
    this.handle?.touch();
    if (pkt.cmd === 'publish') this.host.counters.messagesIn.value++;
    else this.host.counters.packetsIn.value++;
    let env = this.host.env;
    if (pkt.cmd === 'connect' && this.state.phase === 'awaiting_connect') {
      this.version = pkt.protocolVersion ?? 4;
      this.connectUser = pkt.username ?? null;
      const c = passwordCheck(env, pkt);
      const verdict = c === null ? null : this.host.passwords.checkSoon(c.host, c.user, c.password);
      if (verdict instanceof Promise) return this.awaitPassword(pkt, verdict);
      if (verdict !== null) env = withVerdict(env, verdict);
    }
    this.apply(dispatch(this.state, pkt, env, this.session, this.host.nowMs()));
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
      this.apply(dispatch(this.state, pkt, withVerdict(this.host.env, ok), this.session, this.host.nowMs()));
      // Refused: nothing more is read (the failed-auth delay keeps the socket paused until its CONNACK).
      if (this.state.phase !== 'connected') return dropInput(this);
      releaseInput(this);
      if (!this.ended && !holding(this)) this.stream.resume();
    } catch (e) {
      this.host.internalError(this, e);
      this.end('protocol_error', RC.unspecified, true);
    }
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
      const host = this.host.env.resolveHost(this.connectUser).policy.host;
      const delay = this.host.authFailureDelayMs(this, host);
      if (delay > 0) {
        this.stream.pause();
        this.host.later(delay, () => {
          try {
            this.run(s.effects);
          } catch (err) {
            this.host.internalError(this, err);
            this.end('protocol_error', RC.unspecified, true);
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
          if (DURABLE_ACKS.has(e.packet.cmd)) this.sendWhenDurable(e.packet);
          else this.send(e.packet);
          break;
        case 'open':
          this.host.open(this, this.state as Connected, e.connack);
          break;
        case 'route':
          this.host.route(this, e);
          break;
        case 'subscribed':
          // After the SUBACK, which may wait for durability: retained messages follow it.
          this.host.whenDurable(() => {
            if (!this.ended) this.host.subscribed(this, e);
          });
          break;
        case 'unsubscribed':
          this.host.unsubscribed(this, e.filters);
          break;
        case 'pong':
          this.handle?.answered('pong');
          break;
        case 'count':
          this.host.count(e.what);
          break;
        case 'close':
          if (e.sessionExpiryS !== undefined && this.negotiated) this.negotiated.sessionExpiryS = e.sessionExpiryS;
          this.end(e.reason, e.code, e.will);
          break;
      }
    }
  }

  send(packet: Packet): void {
    // PINGRESP is the hot packet of idle fleets, CONNACK of connect storms: shared encodings.
    if (packet.cmd === 'pingresp') return this.write(PINGRESP);
    if (packet.cmd === 'connack' && this.version !== 5 && packet.returnCode === 0 && packet.properties === undefined) {
      return this.writeFirst(CONNACK_V3_OK[packet.sessionPresent ? 1 : 0]);
    }
    this.write(generate(packet, { protocolVersion: this.version }));
  }

  /**
   * Writes of one event-loop tick go out together: the first one queues a nextTick flush, later
   * ones join the queue, so a burst of deliveries to one client costs one socket write, not one
   * each (and a lone PINGRESP stays a plain write, no writev).
   */
  write(buf: Buffer): void {
    if (this.stream.destroyed) return;
    this.outBytes += buf.length;
    if (this.outQ === null) {
      this.outQ = buf;
      process.nextTick(flushConnection, this);
    } else if (Array.isArray(this.outQ)) this.outQ.push(buf);
    else this.outQ = [this.outQ, buf];
  }

  /** A lone answer (CONNACK, PINGRESP): straight to the socket when nothing is queued this tick, else in order behind it. */
  private writeFirst(buf: Buffer): void {
    if (this.outQ === null && !this.stream.destroyed) this.stream.write(buf);
    else this.write(buf);
  }

  /** Write out what this tick queued (write()). */
  flush(): void {
    const q = this.outQ;
    this.outQ = null;
    this.outBytes = 0;
    if (q === null || this.stream.destroyed) return;
    this.stream.write(Array.isArray(q) ? Buffer.concat(q) : q);
  }

  private sendWhenDurable(packet: Packet): void {
    this.host.whenDurable((err) => {
      if (this.ended) return;
      if (!err) return this.send(packet);
      // Not durable: never acknowledge; the client resends after reconnecting.
      this.host.internalError(this, err);
      this.end('protocol_error', RC.unspecified, true);
    });
  }

  /** A QoS 0 delivery to this online client, at once (the EncodeCache fast path). */
  deliverQos0(d: Delivery, cache: EncodeCache | null): void {
    const st = this.connected;
    if (!st || this.ended) return;
    if (this.stream.writableLength + this.outBytes > st.policy.mqtt.max_send_buffer) {
      this.host.counters.dropped.value++;
      return;
    }
    const buf = cache && d.subIds === null ? cache.get(st.version, d) : this.encode(st, d, 0, false, this.host.nowMs());
    if (buf) this.writeOut(st, buf);
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
    const buf = this.encode(st, d, id, dup, this.host.nowMs());
    if (buf) this.writeOut(st, buf);
    else this.host.counters.dropped.value++; // expired on the way out
  }

  pubrel(id: number, reasonCode: number): void {
    if (this.ended) return;
    const v5 = this.connected?.version === 5;
    this.send(v5 && reasonCode !== 0 ? { cmd: 'pubrel', messageId: id, reasonCode } : { cmd: 'pubrel', messageId: id });
  }

  private encode(st: Connected, d: Delivery, id: number, dup: boolean, now: number): Buffer | null {
    return encodePublish(st.version, d, id, dup, now);
  }

  private writeOut(st: Connected, buf: Buffer): void {
    // v5 Maximum Packet Size of the client: drop what does not fit [MQTT-3.1.2-25].
    if (st.maxPacketOut > 0 && buf.length > st.maxPacketOut) {
      this.host.counters.dropped.value++;
      return;
    }
    this.host.counters.messagesOut.value++;
    this.write(buf);
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
      this.flush();
      this.stream.once('finish', destroyStream);
      this.stream.end();
    }
    this.host.closed(this, reason, will);
  }

  // LivenessAdapter ---------------------------------------------------------------------------

  probe(_ep: EndpointRef): void {
    this.send({ cmd: 'pingreq' });
  }

  kill(_ep: EndpointRef, reason: DisconnectReason): void {
    this.end(reason, disconnectCode(reason), willOnClose(reason));
  }

  canProbe(_ep: EndpointRef): true | string {
    return this.host.probeable(this);
  }
}
