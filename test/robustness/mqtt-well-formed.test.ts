/**
 * The MQTT packets the fuzzer found reaching the encoder (src/mqtt/handlers/well-formed.ts), at
 * packet level with their reason codes: each closes the sender only, the subscriber of the same
 * topic keeps its connection and gets the next good message.
 */
import { generate, parser as makeParser, type Packet } from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { MqttControl, RawConn } from '../fuzz/clients.js';
import { type World, makeWorld, settle } from '../fuzz/world.js';

let world: World;
afterEach(() => world.stop());

const CONNECT5 = generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'bad', clean: true, keepalive: 60 }, { protocolVersion: 5 });

function packetsOf(conn: RawConn): Packet[] {
  const out: Packet[] = [];
  const p = makeParser({ protocolVersion: 5 });
  p.on('packet', (pkt: Packet) => out.push(pkt));
  p.parse(Buffer.concat(conn.out));
  return out;
}

async function sendBad(bytes: Buffer): Promise<{ conn: RawConn; sub: MqttControl }> {
  world = makeWorld();
  const sub = new MqttControl(world, 5, '192.0.2.9');
  await sub.connect('sub');
  sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't/#', qos: 1 }] });
  const conn = new RawConn(world, 'mqtt', '198.51.100.1');
  conn.write([CONNECT5, bytes]);
  await settle();
  return { conn, sub };
}

const disconnectCode = (conn: RawConn) => (packetsOf(conn).find((p) => p.cmd === 'disconnect') as { reasonCode?: number } | undefined)?.reasonCode;

describe('MQTT packets the parser accepts but the specs refuse', () => {
  it('SUBSCRIBE without a topic filter: v5 DISCONNECT 0x82 [MQTT-3.8.3-3]', async () => {
    // fixed header 0x82, remaining length 3: packet id 1, property length 0, no payload.
    const { conn } = await sendBad(Buffer.from([0x82, 0x03, 0x00, 0x01, 0x00]));
    expect(conn.closed).toBe(true);
    expect(disconnectCode(conn)).toBe(0x82);
    expect(world.errors).toEqual([]);
  });

  it('UNSUBSCRIBE without a topic filter: v5 DISCONNECT 0x82 [MQTT-3.10.3-2]', async () => {
    const { conn } = await sendBad(Buffer.from([0xa2, 0x03, 0x00, 0x01, 0x00]));
    expect(disconnectCode(conn)).toBe(0x82);
  });

  it('PUBLISH with a property not valid for PUBLISH (Response Information): 0x81, nothing forwarded', async () => {
    // topic "t/a", QoS 0, properties: 0x1A Response Information "x".
    const body = Buffer.from([0x00, 0x03, 0x74, 0x2f, 0x61, 0x04, 0x1a, 0x00, 0x01, 0x78, 0x68, 0x69]);
    const { conn, sub } = await sendBad(Buffer.concat([Buffer.from([0x30, body.length]), body]));
    expect(disconnectCode(conn)).toBe(0x81);
    expect(sub.received.filter((p) => p.cmd === 'publish')).toEqual([]);
    expect(sub.closed).toBe(false);
    expect(world.errors).toEqual([]);
  });

  it('PUBLISH with Content Type twice: 0x82 (a property repeated)', async () => {
    const prop = [0x03, 0x00, 0x01, 0x61];
    const body = Buffer.from([0x00, 0x03, 0x74, 0x2f, 0x61, 2 * prop.length, ...prop, ...prop]);
    const { conn, sub } = await sendBad(Buffer.concat([Buffer.from([0x30, body.length]), body]));
    expect(disconnectCode(conn)).toBe(0x82);
    sub.send({ cmd: 'pingreq' });
    await settle();
    expect(sub.pingresps).toBe(1);
  });
});
