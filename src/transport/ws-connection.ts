/**
 * A WebSocket (RFC 6455) as a TransportConn (connection.ts), so a protocol connection reads and
 * writes it as it does a socket. The protocol's framing (WsFraming: src/mqtt/ws-framing.ts,
 * src/xmpp/ws-framing.ts) decides what a message may be and how the protocol's output becomes
 * messages:
 *
 *   message in  -> wrong kind (MQTT text, XMPP binary) or over maxMessageBytes: `protocol-error`,
 *                  then close 1003 / 1009 (MQTT-6.0.0-1, RFC 7395 §3.2)
 *               -> framing.inbound: the bytes the protocol reads (`data`), or a refusal
 *                  (`protocol-error`, the protocol answers, then the connection closes)
 *   write       -> framing.outbound: one message per MQTT packet / XMPP element
 *   pong        -> `pong` (the answer to ping(): a WebSocket Ping as a liveness probe)
 *
 * Per-message deflate is off and sizes are bounded (ws-server.ts). `MessageSocket` is what this
 * needs of a `ws` WebSocket, so tests (and the fuzzer) can put an in-memory one under it.
 */
import { EventEmitter } from 'node:events';
import type { TLSSocket } from 'node:tls';
import type { MessageFramed, TransportConn, Via } from './connection.js';

/** The part of a `ws` WebSocket this uses. */
export interface MessageSocket {
  send(data: Buffer | string, opts: { binary: boolean }): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  ping(): void;
  readonly bufferedAmount: number;
  on(event: 'message', l: (data: Buffer, isBinary: boolean) => void): unknown;
  on(event: 'pong', l: () => void): unknown;
  on(event: 'close', l: (code: number) => void): unknown;
  on(event: 'error', l: (err: Error) => void): unknown;
}

/** Inbound: the bytes for the protocol, or a refusal with its reason. */
export type Inbound = Buffer | { refuse: string };

/** A protocol's rules for its WebSocket messages. */
export interface WsFraming {
  readonly protocol: 'mqtt' | 'xmpp';
  /** Subprotocols accepted, by preference; an upgrade offering none of them is refused. */
  readonly subprotocols: readonly string[];
  /** MQTT: binary messages only; XMPP: text only. */
  readonly binary: boolean;
  /** Largest message accepted (bytes); a larger one closes with 1009. */
  readonly maxMessageBytes: number;
  /** A new connection's framing state (null when the framing keeps none). */
  start(): FramingState | null;
}

/** The per-connection side of a framing. */
export interface FramingState {
  inbound(data: Buffer): Inbound;
  /** Split `chunk` (what the protocol wrote) into messages. */
  outbound(chunk: Buffer | string, send: (msg: Buffer | string) => void): void;
}

/** MQTT-6.0.0-1 / RFC 7395 §3.2: the wrong kind of data frame. */
export const CLOSE_UNSUPPORTED = 1003;
export const CLOSE_TOO_BIG = 1009;
export const CLOSE_POLICY = 1008;

const noFraming: FramingState = {
  inbound: (d) => d,
  outbound: (chunk, send) => send(chunk),
};

export class WsConnection extends EventEmitter implements TransportConn, MessageFramed {
  readonly messageFramed = true;
  destroyed = false;
  writable = true;
  private readonly state: FramingState;
  private readonly sendOne = (msg: Buffer | string): void => this.ws.send(msg, this.sendOpts);
  private readonly sendOpts: { binary: boolean };
  /** The close code of a refusal (the protocol's own end() then closes with it), else 1000. */
  private closeCode = 1000;
  private closeReason = '';

  constructor(
    private readonly ws: MessageSocket,
    readonly via: Extract<Via, 'ws' | 'wss'>,
    readonly remoteAddress: string,
    private readonly framing: WsFraming,
    readonly tlsSocket: TLSSocket | null,
  ) {
    super();
    this.state = framing.start() ?? noFraming;
    this.sendOpts = { binary: framing.binary };
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('pong', () => this.emit('pong'));
    ws.on('error', (err) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
    ws.on('close', () => this.gone());
  }

  get writableLength(): number {
    return this.ws.bufferedAmount;
  }

  write(chunk: Buffer | string): boolean {
    if (this.destroyed || !this.writable) return false;
    this.state.outbound(chunk, this.sendOne);
    return true;
  }

  /** Close frame 1000 after what is queued; the peer's close frame (or ws's timeout) ends it. */
  end(): void {
    if (this.destroyed || !this.writable) return;
    this.writable = false;
    this.ws.close(this.closeCode, this.closeReason);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.writable = false;
    this.ws.terminate();
    this.gone();
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  ping(): void {
    if (!this.destroyed) this.ws.ping();
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.destroyed || !this.writable) return;
    if (isBinary !== this.framing.binary) {
      return this.refuse(this.framing.binary ? 'text frame: MQTT over WebSocket is binary only [MQTT-6.0.0-1]' : 'binary frame: XMPP over WebSocket is text only (RFC 7395 §3.2)', CLOSE_UNSUPPORTED);
    }
    if (data.length > this.framing.maxMessageBytes) return this.refuse(`message of ${data.length} bytes over ${this.framing.maxMessageBytes}`, CLOSE_TOO_BIG);
    const bytes = this.state.inbound(data);
    if (Buffer.isBuffer(bytes)) this.emit('data', bytes);
    else this.refuse(bytes.refuse, CLOSE_POLICY);
  }

  /** The protocol hears why (it may answer, e.g. an XMPP stream error), then the WebSocket closes. */
  private refuse(reason: string, code: number): void {
    this.closeCode = code;
    this.closeReason = reason.slice(0, 120); // a close reason is at most 123 bytes (RFC 6455 §5.5)
    this.emit('protocol-error', reason);
    this.end();
  }

  private gone(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.writable = false;
    this.emit('end');
    this.emit('close');
  }
}
