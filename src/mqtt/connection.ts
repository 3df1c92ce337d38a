/**
 * The thin socket layer of one MQTT connection (EMQX's emqx_connection): parse bytes with a
 * per-connection mqtt-packet parser, hand each packet to the pure channel (handlers/index.ts),
 * carry out the effects, encode and write. It also is the connection's LivenessAdapter (probe =
 * server PINGREQ, kill = DISCONNECT + close).
 *
 * It is also the session's sink: the session core (src/mqtt-session/) decides what PUBLISH / PUBREL
 * go out (window, queue, resend with DUP) and the connection encodes and writes them.
 * Acknowledgements of client packets (PUBACK, PUBREC, PUBCOMP, SUBACK) go out only once the store
 * writes their handling made are durable (`whenDurable`; at once when nothing is pending).
 *
 * No timers here: keepalive is the liveness core's, the CONNECT timeout is one sweeper in the broker.
 * Packet size: checked when the fixed header is known (parser.packet.length) and again per packet,
 * so an oversize packet is refused before it is buffered whole [MQTT-3.1.2-24 v5 / §3.2.2.3.6].
 */
import type { Duplex } from 'node:stream';
import { generate, parser as makeParser, type IConnackPacket, type Packet, type Parser } from 'mqtt-packet';
import type { DisconnectReason, EndpointRef, LivenessAdapter, LivenessHandle } from '../liveness/types.js';
import type { ChannelEnv, ChannelState, Connected, Effect, Step } from './channel.js';
import { publishPacket, type EncodeCache } from './deliver.js';
import { dispatch } from './handlers/index.js';
import type { Delivery } from './message.js';
import { RC, disconnectCode, willOnClose } from './reason-codes.js';
import type { SessionHandle, SessionSink } from '../mqtt-session/service.js';
import type { SubOptions } from './session.js';
import type { TimerHandle } from '../time/scheduler.js';

/** What a connection needs from the broker (broker.ts implements it). */
export interface ConnectionHost {
  readonly env: ChannelEnv;
  /** Monotonic ms (CONNECT timeout). */
  monoNow(): number;
  /** Wall-clock ms: the time base of message expiry (persisted deadlines mean the same after a restart). */
  nowMs(): number;
  /** Largest inbound packet before CONNECT names the host. */
  defaultMaxPacketSize(): number;
  open(conn: MqttConnection, st: Connected, connack: IConnackPacket): void;
  route(conn: MqttConnection, effect: Extract<Effect, { type: 'route' }>): void;
  subscribed(conn: MqttConnection, effect: Extract<Effect, { type: 'subscribed' }>): void;
  unsubscribed(conn: MqttConnection, filters: string[]): void;
  closed(conn: MqttConnection, reason: DisconnectReason, will: boolean): void;
  count(what: 'auth_failure' | 'acl_denied' | 'limit' | 'max_subscriptions' | 'in' | 'msg_in' | 'out' | 'dropped'): void;
  probeable(conn: MqttConnection): true | string;
  /** A bug while handling this connection's input: log it; the connection is closed, the server lives on. */
  internalError(conn: MqttConnection, err: unknown): void;
  /** A CONNECT refused for its credentials from this connection's address: ms to hold the answer. */
  authFailureDelayMs(conn: MqttConnection, host: string): number;
  /** A timer (the failed-auth delay). */
  later(ms: number, fn: () => void): TimerHandle;
  /** Run `cb` once every session write so far is durable (at once when none is pending). */
  whenDurable(cb: (err: Error | null) => void): void;
}

/** Acknowledgements that promise the client its packet is safe: sent only once durable. */
const DURABLE_ACKS = new Set(['puback', 'pubrec', 'pubcomp', 'suback']);

/** A packet's size on the wire from its remaining length. */
const wireSize = (remaining: number) => 1 + (remaining < 128 ? 1 : remaining < 16_384 ? 2 : remaining < 2_097_152 ? 3 : 4) + remaining;

let serials = 0;
const PINGRESP = Buffer.from([0xd0, 0x00]);

export class MqttConnection implements LivenessAdapter, SessionSink<Delivery> {
  state: ChannelState = { phase: 'awaiting_connect' };
  session: SessionHandle<Delivery, SubOptions> | null = null;
  /** The session generation this connection opened (a late close after a takeover is ignored). */
  sessionGeneration = 0;
  handle: LivenessHandle | null = null;
  readonly serial = ++serials;
  readonly openedAtMono: number;
  /** The negotiated state once CONNECT succeeded; kept after close for the will and the session. */
  negotiated: Connected | null = null;
  private readonly parser: Parser;
  ended = false;
  /** Protocol level of the CONNECT packet (encodes even a refusing CONNACK right). */
  private version = 4;
  /** Username of the CONNECT packet (names the host of a refused CONNECT's failed-auth delay). */
  private connectUser: string | null = null;

  constructor(
    readonly stream: Duplex,
    readonly remoteIp: string,
    private readonly host: ConnectionHost,
  ) {
    this.openedAtMono = host.monoNow();
    this.parser = makeParser();
    this.parser.on('packet', (p: Packet) => this.onPacket(p));
    this.parser.on('error', (err: Error) => this.onParseError(err));
    stream.on('data', (buf: Buffer) => this.onData(buf));
    stream.on('error', () => this.end('socket_error', null, true));
    stream.on('end', () => this.end('socket_error', null, true));
    stream.on('close', () => this.end('socket_error', null, true));
  }

  get connected(): Connected | null {
    return this.state.phase === 'connected' ? this.state : null;
  }

  private maxPacketSize(): number {
    const st = this.connected;
    return st ? st.policy.mqtt.max_packet_size : this.host.defaultMaxPacketSize();
  }

  private onData(buf: Buffer): void {
    if (this.ended) return;
    try {
      this.parser.parse(buf);
    } catch (err) {
      this.host.internalError(this, err);
      return this.end('protocol_error', RC.unspecified, true);
    }
    // Header known, body still arriving: refuse before buffering the rest.
    const pending = (this.parser as unknown as { packet: { length: number } }).packet.length;
    if (!this.ended && pending > 0 && wireSize(pending) > this.maxPacketSize()) this.tooLarge();
  }

  private tooLarge(): void {
    this.host.count('limit');
    this.end('protocol_error', RC.packetTooLarge, true);
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
    if (this.ended) return;
    if (pkt.length !== undefined && wireSize(pkt.length) > this.maxPacketSize()) return this.tooLarge();
    this.handle?.touch();
    this.host.count(pkt.cmd === 'publish' ? 'msg_in' : 'in');
    if (pkt.cmd === 'connect' && this.state.phase === 'awaiting_connect') {
      this.version = pkt.protocolVersion ?? 4;
      this.connectUser = pkt.username ?? null;
      // mqtt-packet keeps the whole CONNECT (password, will payload) as its settings for the life of
      // the connection; it only needs the protocol version.
      (this.parser as unknown as { settings: { protocolVersion: number } }).settings = { protocolVersion: this.version };
    }
    this.apply(dispatch(this.state, pkt, this.host.env, this.session, this.host.nowMs()));
  }

  private apply(s: Step): void {
    if (s.next) {
      this.state = s.next;
      if (s.next.phase === 'connected') this.negotiated = s.next;
    }
    if (s.effects.some((e) => e.type === 'count' && e.what === 'auth_failure')) {
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
    // PINGRESP is the hot packet of idle fleets: one shared encoding.
    this.write(packet.cmd === 'pingresp' ? PINGRESP : generate(packet, { protocolVersion: this.version }));
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
      process.nextTick(this.flush);
    } else if (Array.isArray(this.outQ)) this.outQ.push(buf);
    else this.outQ = [this.outQ, buf];
  }

  private outQ: Buffer | Buffer[] | null = null;
  private outBytes = 0;
  private readonly flush = (): void => {
    const q = this.outQ;
    this.outQ = null;
    this.outBytes = 0;
    if (q === null || this.stream.destroyed) return;
    this.stream.write(Array.isArray(q) ? Buffer.concat(q) : q);
  };

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
    if (this.stream.writableLength + this.outBytes > st.policy.mqtt.max_send_buffer) return this.host.count('dropped');
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
    else this.host.count('dropped'); // expired on the way out
  }

  pubrel(id: number, reasonCode: number): void {
    if (this.ended) return;
    const v5 = this.connected?.version === 5;
    this.send(v5 && reasonCode !== 0 ? { cmd: 'pubrel', messageId: id, reasonCode } : { cmd: 'pubrel', messageId: id });
  }

  private encode(st: Connected, d: Delivery, id: number, dup: boolean, now: number): Buffer | null {
    const pkt = publishPacket(st.version, d, id, dup, now);
    return pkt ? generate(pkt, { protocolVersion: st.version === 5 ? 5 : 4 }) : null;
  }

  private writeOut(st: Connected, buf: Buffer): void {
    // v5 Maximum Packet Size of the client: drop what does not fit [MQTT-3.1.2-25].
    if (st.maxPacketOut > 0 && buf.length > st.maxPacketOut) return this.host.count('dropped');
    this.host.count('out');
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
      this.stream.once('finish', () => this.stream.destroy());
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
