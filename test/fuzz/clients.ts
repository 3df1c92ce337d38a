/**
 * Clients for the robustness suites, over in-memory duplex pairs into a World:
 * - RawConn: writes arbitrary bytes, records what the server sent and whether it closed; over a
 *   duplex (tcp) or an in-memory WebSocket with the protocol's framing (each chunk one message);
 * - XmppControl: a well-behaved XMPP client (PLAIN login, bind) that answers server pings;
 * - MqttControl: a well-behaved MQTT client (mqtt-packet) that answers QoS 1 deliveries.
 */
import type { Duplex } from 'node:stream';
import { generate, parser as makeParser, type Packet } from 'mqtt-packet';
import { type StreamEvent, createXmlStreamParser } from '../../src/xmpp/xml-stream.js';
import { type XmlEl, child } from '../../src/xmpp/xml.js';
import { WsConnection } from '../../src/transport/ws-connection.js';
import { MemoryWebSocket, duplexPair } from '../support/duplex-pair.js';
import { FUZZ_DOMAIN, streamHeader } from './xml-cases.js';
import { type World, settle } from './world.js';
import { until } from '../support/until.js';

export type Proto = 'xmpp' | 'mqtt';

/** A WebSocket fuzz connection: `flip` is the message sent as the wrong kind (text for MQTT, binary for XMPP), -1 none. */
export interface WsCase {
  flip: number;
}

export class RawConn {
  readonly side: Duplex | null = null;
  readonly ws: MemoryWebSocket | null = null;
  out: Buffer[] = [];
  outBytes = 0;
  closed = false;
  /** False when the server refused the socket before reading (xmpp accept() returned null). */
  accepted = true;

  /** `keep`: how many received chunks to keep (the tail is enough for a closing error). */
  constructor(world: World, private readonly proto: Proto, ip: string, keep = 8, private readonly wsCase: WsCase | null = null) {
    const record = (b: Buffer) => {
      this.outBytes += b.length;
      this.out.push(b);
      if (this.out.length > keep) this.out.shift();
    };
    if (wsCase) {
      const ws = new MemoryWebSocket();
      this.ws = ws;
      ws.onSend = (data) => record(Buffer.isBuffer(data) ? data : Buffer.from(data));
      ws.on('close', () => (this.closed = true));
      const conn = new WsConnection(ws, 'ws', ip, world.wsFraming[proto], null);
      if (proto === 'xmpp') this.accepted = world.xmpp.accept(conn, ip) !== null;
      else world.mqtt.handle(conn, ip);
      return;
    }
    const [server, client] = duplexPair();
    this.side = client;
    client.on('data', record);
    client.on('error', () => undefined);
    client.on('close', () => (this.closed = true));
    client.on('end', () => (this.closed = true));
    if (proto === 'xmpp') this.accepted = world.xmpp.accept(server, ip) !== null;
    else world.mqtt.handle(server, ip);
  }

  /** Bytes on the duplex; over a WebSocket each chunk is one message (of the protocol's kind unless flipped). */
  write(chunks: readonly Buffer[]): void {
    const ws = this.ws;
    if (ws) {
      chunks.forEach((c, i) => ws.fromClient(c, (this.proto === 'mqtt') !== (i === this.wsCase?.flip)));
      return;
    }
    for (const c of chunks) if (this.side && !this.side.destroyed) this.side.write(c);
  }

  tail(): string {
    return Buffer.concat(this.out).toString('latin1');
  }

  /** The condition of the stream error the server sent last, if any. */
  streamError(): string | null {
    const m = /<stream:error[^>]*><([a-z-]+)/.exec(this.tail());
    return m ? m[1]! : null;
  }

  destroy(): void {
    if (this.ws) this.ws.close(1000, '');
    else this.side?.destroy();
  }
}

export class XmppControl {
  readonly side: Duplex;
  readonly events: StreamEvent[] = [];
  private parser = createXmlStreamParser({ maxStanzaBytes: 10_000_000 });
  closed = false;
  pingsAnswered = 0;
  messages: XmlEl[] = [];

  constructor(world: World, ip = '192.0.2.1') {
    const [server, client] = duplexPair();
    this.side = client;
    client.on('data', (b: Buffer) => {
      for (const ev of this.parser.write(b)) {
        this.events.push(ev);
        if (ev.type === 'stanza') this.onStanza(ev.el);
      }
    });
    client.on('close', () => (this.closed = true));
    client.on('end', () => (this.closed = true));
    world.xmpp.accept(server, ip);
  }

  private onStanza(el: XmlEl): void {
    if (el.name === 'iq' && el.attrs.type === 'get' && child(el, 'ping')) {
      this.pingsAnswered++;
      this.side.write(`<iq type='result' id='${el.attrs.id}' to='${el.attrs.from}'/>`);
    } else if (el.name === 'message') this.messages.push(el);
    if (this.events.length > 64) this.events.splice(0, this.events.length - 64);
  }

  async login(user: string, password: string, resource = 'ctl'): Promise<void> {
    this.side.write(streamHeader());
    await settle();
    const creds = Buffer.from(`\u0000${user}\u0000${password}`).toString('base64');
    this.side.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${creds}</auth>`);
    // PLAIN is verified on the libuv pool (async PBKDF2): turn the loop until the answer is in.
    const answered = () => this.events.some((e) => e.type === 'stanza' && (e.el.name === 'success' || e.el.name === 'failure'));
    await until(answered, { what: `the SASL answer to ${user}` });
    if (!this.events.some((e) => e.type === 'stanza' && e.el.name === 'success')) throw new Error(`control login failed for ${user}`);
    this.parser.reset();
    this.side.write(streamHeader());
    await settle();
    this.side.write(`<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`);
    await settle();
    this.side.write(`<presence/>`);
    await settle();
  }

  send(xml: string): void {
    this.side.write(xml);
  }

  message(to: string, body: string): void {
    this.send(`<message to='${to}@${FUZZ_DOMAIN}' type='chat'><body>${body}</body></message>`);
  }
}

export class MqttControl {
  readonly side: Duplex;
  readonly received: Packet[] = [];
  pingresps = 0;
  closed = false;

  constructor(world: World, readonly version: 4 | 5 = 4, ip = '192.0.2.2') {
    const [server, client] = duplexPair();
    this.side = client;
    const p = makeParser({ protocolVersion: version });
    p.on('packet', (pkt: Packet) => {
      if (pkt.cmd === 'pingresp') this.pingresps++;
      else if (pkt.cmd === 'publish') {
        this.received.push(pkt);
        if (this.received.length > 64) this.received.shift();
        if (pkt.qos === 1) this.send({ cmd: 'puback', messageId: pkt.messageId! });
      } else this.received.push(pkt);
    });
    client.on('data', (b: Buffer) => p.parse(b));
    client.on('close', () => (this.closed = true));
    client.on('end', () => (this.closed = true));
    world.mqtt.handle(server, ip);
  }

  send(p: Packet): void {
    if (!this.side.destroyed) this.side.write(generate(p, { protocolVersion: this.version }));
  }

  async connect(clientId: string, keepalive = 60): Promise<void> {
    this.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: this.version, clientId, clean: true, keepalive } as Packet);
    await settle();
    const ack = this.received.find((p) => p.cmd === 'connack');
    if (!ack || (ack as { returnCode?: number; reasonCode?: number }).returnCode || (ack as { reasonCode?: number }).reasonCode) {
      throw new Error(`control CONNECT refused for ${clientId}`);
    }
  }
}
