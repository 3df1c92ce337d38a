/**
 * MQTT over WebSocket at packet level (MQTT §6, issue 14): the MQTT service behind a WsConnection
 * (src/transport/ws-connection.ts) with MQTT's framing (src/mqtt/ws-framing.ts), over an
 * in-memory WebSocket, on manual time. The framings real clients produce (mqtt.js in Node: a
 * CONNECT in nine messages; its browser build: three PUBLISH in one), an empty message inside a
 * packet, a text message, one packet per message out, and `mqtt_probe: ws_ping`.
 */
import { generate, parser as makeParser, type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { mqttWsFraming } from '../../src/mqtt/ws-framing.js';
import { WsConnection } from '../../src/transport/ws-connection.js';
import { MemoryWebSocket } from '../support/duplex-pair.js';
import { HOST, rig, settle } from './harness.js';

type Rig = ReturnType<typeof rig>;

class WsClient {
  readonly ws = new MemoryWebSocket();
  readonly received: Packet[] = [];
  /** Packets per server message: one each when the framing is right. */
  readonly perMessage: number[] = [];

  constructor(r: Rig, readonly version: 4 | 5 = 4, via: 'ws' | 'wss' = 'ws') {
    const parser = makeParser({ protocolVersion: version });
    parser.on('packet', (p: Packet) => this.received.push(p));
    this.ws.onSend = (data) => {
      const before = this.received.length;
      parser.parse(Buffer.isBuffer(data) ? data : Buffer.from(data));
      this.perMessage.push(this.received.length - before);
    };
    r.service.handle(new WsConnection(this.ws, via, '10.0.0.7', mqttWsFraming(1_048_576), null), '10.0.0.7');
  }

  packet(p: Packet): Buffer {
    return generate(p, { protocolVersion: this.version });
  }

  async connect(clientId = 'ws1', keepalive = 60) {
    this.ws.fromClient(this.packet({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: this.version, clientId, clean: true, keepalive } as Packet));
    await settle();
    return this.take('connack');
  }

  take<C extends Packet['cmd']>(cmd: C): Extract<Packet, { cmd: C }>[] {
    const out = this.received.filter((p) => p.cmd === cmd) as Extract<Packet, { cmd: C }>[];
    for (const p of out) this.received.splice(this.received.indexOf(p), 1);
    return out;
  }
}

/** Cut `buf` into pieces of these sizes (the last one takes the rest). */
function cut(buf: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const n of sizes) {
    if (at >= buf.length) break;
    out.push(buf.subarray(at, at + n));
    at += n;
  }
  if (at < buf.length) out.push(buf.subarray(at));
  return out;
}

describe('MQTT over WebSocket framing', () => {
  it('a CONNECT split over nine messages, as mqtt.js in Node sends it [MQTT-6.0.0-2]', async () => {
    const r = rig();
    const c = new WsClient(r);
    const connect = c.packet({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'nine-frames', clean: true, keepalive: 60 } as Packet);
    const frames = cut(connect, [1, 1, 2, 4, 1, 1, 2, 2]);
    expect(frames).toHaveLength(9);
    for (const f of frames) {
      c.ws.fromClient(f);
      await settle(1);
    }
    await settle();
    expect(c.take('connack')).toEqual([expect.objectContaining({ returnCode: 0 })]);
    const [row] = r.presence.list(HOST, { via: 'ws' }, 10, null).items;
    expect(row).toMatchObject({ id: 'nine-frames', via: 'ws', meta: expect.objectContaining({ via: 'ws' }) });
  });

  it('three PUBLISH in one message, as the browser build of mqtt.js batches them, are all routed', async () => {
    const r = rig();
    const sub = r.client(4, '10.0.0.2');
    await sub.connect({}, 'tcp-sub');
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'b/#', qos: 0 }] });
    await settle();
    const c = new WsClient(r);
    await c.connect('batcher');
    const pubs = [1, 2, 3].map((i) => c.packet({ cmd: 'publish', topic: `b/${i}`, payload: Buffer.from(`m${i}`), qos: 0, retain: false, dup: false }));
    c.ws.fromClient(Buffer.concat(pubs));
    await settle();
    expect(sub.take('publish').map((p) => p.topic)).toEqual(['b/1', 'b/2', 'b/3']);
  });

  it('an empty message in the middle of a packet changes nothing', async () => {
    const r = rig();
    const c = new WsClient(r);
    const connect = c.packet({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'empty-frame', clean: true, keepalive: 60 } as Packet);
    for (const f of [connect.subarray(0, 1), Buffer.alloc(0), connect.subarray(1, 5), Buffer.alloc(0), connect.subarray(5)]) c.ws.fromClient(f, true);
    await settle();
    expect(c.take('connack')).toHaveLength(1);
  });

  it('a text message closes the WebSocket with 1003 [MQTT-6.0.0-1]; the endpoint goes offline as protocol_error', async () => {
    const r = rig();
    const c = new WsClient(r);
    await c.connect('texter');
    c.ws.fromClient('hello');
    await settle();
    expect(c.ws.closed?.code).toBe(1003);
    expect(r.presence.get({ host: HOST, transport: 'mqtt', id: 'texter' })).toMatchObject({ state: 'offline', via: 'ws', last_disconnect_reason: 'protocol_error' });
  });

  it('sends one packet per message, also when one flush joins several (SUBACK, retained, deliveries)', async () => {
    const r = rig();
    const pub = r.client(4, '10.0.0.3');
    await pub.connect({}, 'pub');
    for (const i of [1, 2]) pub.send({ cmd: 'publish', topic: `r/${i}`, payload: Buffer.from('x'), qos: 0, retain: true, dup: false });
    await settle();
    const c = new WsClient(r);
    await c.connect('reader');
    c.ws.fromClient(c.packet({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'r/#', qos: 1 }] }));
    await settle();
    for (const i of [3, 4, 5]) pub.send({ cmd: 'publish', topic: `r/${i}`, payload: Buffer.from('y'), qos: 0, retain: false, dup: false });
    await settle();
    expect(c.take('suback')).toHaveLength(1);
    expect(c.take('publish').map((p) => p.topic)).toEqual(['r/1', 'r/2', 'r/3', 'r/4', 'r/5']);
    expect(c.perMessage.every((n) => n === 1)).toBe(true);
    expect(c.perMessage.length).toBe(c.ws.sent.length);
  });

  it('a message over the largest max_packet_size closes with 1009', async () => {
    const r = rig();
    const c = new WsClient(r);
    await c.connect('big');
    c.ws.fromClient(Buffer.alloc(1_048_577, 0x30));
    await settle();
    expect(c.ws.closed?.code).toBe(1009);
  });
});

describe('mqtt_probe: ws_ping', () => {
  it('a silent WebSocket client gets a Ping at ping_interval and is killed at ping_interval + ping_ack_timeout', async () => {
    const r = rig({ ping: { mqtt_probe: 'ws_ping', ping_interval: 20, ping_ack_timeout: 5 } });
    const c = new WsClient(r);
    c.ws.autoPong = false;
    await c.connect('silent', 600);
    await r.advance(19_999);
    expect(c.ws.pings).toBe(0);
    await r.advance(1);
    expect(c.ws.pings).toBe(1);
    expect(r.presence.get({ host: HOST, transport: 'mqtt', id: 'silent' })?.liveness).toBe('probing');
    await r.advance(4_999);
    expect(c.ws.closed).toBeNull();
    await r.advance(1);
    expect(c.ws.closed).not.toBeNull();
    expect(r.presence.get({ host: HOST, transport: 'mqtt', id: 'silent' })).toMatchObject({ state: 'offline', last_disconnect_reason: 'ping_timeout' });
    expect(c.take('pingreq')).toHaveLength(0); // no MQTT PINGREQ [MQTT-3.1.2-24 only lets the client ping]
  });

  it('a Pong answers: the round trip is last_rtt_ms; a TCP client of the same host keeps its Keep Alive rule', async () => {
    const r = rig({ ping: { mqtt_probe: 'ws_ping', ping_interval: 20, ping_ack_timeout: 5 } });
    const c = new WsClient(r);
    c.ws.autoPong = false;
    await c.connect('answers', 600);
    const tcp = r.client(4, '10.0.0.9');
    await tcp.connect({ keepalive: 10 }, 'tcp-dev');
    await r.advance(15_000);
    expect(r.presence.get({ host: HOST, transport: 'mqtt', id: 'tcp-dev' })).toMatchObject({ state: 'offline', last_disconnect_reason: 'keepalive_timeout', via: 'tcp' });
    expect(tcp.take('pingreq')).toHaveLength(0);
    await r.advance(5_000);
    expect(c.ws.pings).toBe(1);
    await r.advance(40);
    c.ws.pong();
    await settle();
    expect(r.presence.get({ host: HOST, transport: 'mqtt', id: 'answers' })).toMatchObject({ state: 'online', liveness: 'active', last_rtt_ms: 40 });
    await r.advance(10_000);
    expect(c.ws.closed).toBeNull();
  });

  it('switches live: keepalive -> ws_ping re-arms a WebSocket client for probes (host settings)', async () => {
    const r = rig({ ping: { ping_interval: 30, ping_ack_timeout: 5 } });
    const c = new WsClient(r);
    await c.connect('live', 600);
    expect(r.service.broker.probeable(r.service.broker.gate.connections()[0]!)).toMatch(/keepalive/);
    r.liveness.setHostConfig(HOST, { mqtt_probe: 'ws_ping' });
    await r.advance(30_000);
    expect(c.ws.pings).toBe(1);
    await r.advance(100); // the in-memory client answers by itself, as a browser does
    expect(r.presence.get({ host: HOST, transport: 'mqtt', id: 'live' })).toMatchObject({ liveness: 'active', last_rtt_ms: 0 });
  });
});
