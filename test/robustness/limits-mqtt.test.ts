/**
 * MQTT limits of issue 8, each configured per host and counted in
 * vigil_mqtt_limit_hits_total{limit} (dropped messages in vigil_mqtt_messages_dropped_total):
 * max_connections, max_connection_rate_per_ip, connect_timeout (slowloris), max_packet_size,
 * max_subscriptions, max_inflight + max_pending, max_send_buffer, auth_failure_delay_ms.
 */
import { generate, parser as makeParser, type Packet } from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { MqttControl, RawConn } from '../fuzz/clients.js';
import { type World, makeWorld, settle } from '../fuzz/world.js';
import { counterValue, trickle } from './metrics.js';
import { until } from '../support/until.js';

let world: World;
afterEach(() => world.stop());
const start = (mqtt: Record<string, unknown>) => (world = makeWorld({ host: { mqtt: { max_connection_rate_per_ip: 0, ...mqtt } } }));
const hits = (limit: string) => counterValue(world, 'vigil_mqtt_limit_hits_total', { limit });
const enc = (p: Packet, v: 4 | 5 = 5) => generate(p, { protocolVersion: v });
const connect = (clientId: string, extra: Record<string, unknown> = {}, v: 4 | 5 = 5) =>
  enc({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: v, clientId, clean: true, keepalive: 60, ...extra } as Packet, v);

function packetsOf(conn: RawConn, v: 4 | 5 = 5): Packet[] {
  const out: Packet[] = [];
  const p = makeParser({ protocolVersion: v });
  p.on('packet', (pkt: Packet) => out.push(pkt));
  p.parse(Buffer.concat(conn.out));
  return out;
}

describe('MQTT limits', () => {
  it('max_connections: a CONNECT past it gets 0x97; the listener refuses sockets past the sum', async () => {
    start({ max_connections: 2 });
    const conns = [1, 2, 3].map((i) => new RawConn(world, 'mqtt', `203.0.113.${i}`, Infinity));
    conns.forEach((c, i) => c.write([connect(`c${i}`)]));
    await settle();
    expect(conns.map((c) => c.closed)).toEqual([false, false, true]);
    expect(packetsOf(conns[2]!)).toEqual([]); // refused before any byte was read
    expect(await hits('max_connections')).toBe(1);
  });

  it('max_connection_rate_per_ip: a burst past the rate is refused at accept', async () => {
    start({ max_connection_rate_per_ip: 3 });
    const conns = [1, 2, 3, 4].map(() => new RawConn(world, 'mqtt', '203.0.113.9'));
    await settle();
    expect(conns.map((c) => c.closed)).toEqual([false, false, false, true]);
    expect(await hits('max_connection_rate_per_ip')).toBe(1);
  });

  it('slowloris: a CONNECT sent one byte a second is closed by connect_timeout', async () => {
    start({ connect_timeout: 5 });
    const c = new RawConn(world, 'mqtt', '203.0.113.20');
    const sent = await trickle(world, c, connect('slow', { username: 'x'.repeat(40) }));
    expect(c.closed).toBe(true);
    expect(sent).toBeLessThanOrEqual(7);
    expect(await hits('connect_timeout')).toBe(1);
  });

  it('max_packet_size: a larger PUBLISH closes with DISCONNECT 0x95 before it is buffered', async () => {
    start({ max_packet_size: 1_024 });
    const c = new RawConn(world, 'mqtt', '203.0.113.21', Infinity);
    c.write([connect('big'), enc({ cmd: 'publish', topic: 't', payload: Buffer.alloc(2_000), qos: 0, retain: false, dup: false })]);
    await settle();
    expect(c.closed).toBe(true);
    expect(packetsOf(c).find((p) => p.cmd === 'disconnect')).toMatchObject({ reasonCode: 0x95 });
    expect(await hits('max_packet_size')).toBe(1);
  });

  it('max_subscriptions: a filter past it gets 0x97 (v5) / 0x80 (3.1.1); a replaced filter does not count', async () => {
    start({ max_subscriptions: 2 });
    for (const v of [5, 4] as const) {
      const c = new RawConn(world, 'mqtt', '203.0.113.22', Infinity);
      const sub = (id: number, topic: string) => enc({ cmd: 'subscribe', messageId: id, subscriptions: [{ topic, qos: 0 }] }, v);
      c.write([connect(`s${v}`, {}, v), sub(1, 'a'), sub(2, 'b'), sub(3, 'a'), sub(4, 'c')]);
      await settle();
      const subacks = packetsOf(c, v).filter((p) => p.cmd === 'suback') as { granted: number[] }[];
      expect(subacks.map((s) => s.granted[0])).toEqual([0, 0, 0, v === 5 ? 0x97 : 0x80]);
    }
    expect(await hits('max_subscriptions')).toBe(2);
  });

  it('max_inflight + max_pending: a subscriber that never acks holds at most both, the rest is dropped and counted', async () => {
    start({ max_inflight: 2, max_pending: 3 });
    const sub = new RawConn(world, 'mqtt', '203.0.113.23', Infinity);
    sub.write([connect('lazy'), enc({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'q', qos: 1 }] })]);
    const pub = new MqttControl(world, 4, '203.0.113.24');
    await pub.connect('pub');
    for (let i = 1; i <= 10; i++) pub.send({ cmd: 'publish', topic: 'q', payload: Buffer.from(`${i}`), qos: 1, retain: false, dup: false, messageId: i });
    await settle();
    // Back-pressure (issue 12) pauses the publisher at the high-water mark (half the queue) first;
    // after backpressure_timeout (5 s) the subscriber stalls no one and the drop rules apply.
    expect(await counterValue(world, 'vigil_mqtt_messages_dropped_total')).toBe(0);
    await world.advance(5_000);
    expect(packetsOf(sub).filter((p) => p.cmd === 'publish')).toHaveLength(2);
    expect(await counterValue(world, 'vigil_mqtt_messages_dropped_total')).toBe(5);
  });

  it('max_send_buffer: QoS 0 to a reader that stopped reading is dropped, not buffered without end', async () => {
    start({ max_send_buffer: 65_536 });
    const slow = new MqttControl(world, 4, '203.0.113.25');
    await slow.connect('slow');
    slow.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'z', qos: 0 }] });
    await settle();
    slow.side.pause();
    const pub = new MqttControl(world, 4, '203.0.113.26');
    await pub.connect('pub0');
    for (let i = 0; i < 200; i++) pub.send({ cmd: 'publish', topic: 'z', payload: Buffer.alloc(4_000), qos: 0, retain: false, dup: false });
    await settle();
    expect(await counterValue(world, 'vigil_mqtt_messages_dropped_total')).toBeGreaterThan(100);
    expect(pub.closed).toBe(false);
  });

  it('auth_failure_delay_ms: a refused CONNECT is answered late, later refusals from the address later still', async () => {
    start({ allow_anonymous: false, auth_failure_delay_ms: 1_000 });
    const refusedAfter = async (): Promise<number> => {
      const c = new RawConn(world, 'mqtt', '203.0.113.30', Infinity);
      const before = await hits('auth_failure_delay');
      c.write([connect('guess', { username: 'control-a', password: Buffer.from('wrong') })]);
      // The password is checked on the libuv pool: the delay starts once the outcome is in.
      await until(async () => (await hits('auth_failure_delay')) !== before, { what: 'the failed CONNECT check' });
      let waited = 0;
      while (!packetsOf(c).some((p) => p.cmd === 'connack')) {
        await world.advance(250);
        waited += 250;
        if (waited > 60_000) throw new Error('no CONNACK');
      }
      expect(packetsOf(c).find((p) => p.cmd === 'connack')).toMatchObject({ reasonCode: 0x86 });
      return waited;
    };
    expect(await refusedAfter()).toBe(1_000);
    expect(await refusedAfter()).toBe(2_000);
    expect(await hits('auth_failure_delay')).toBe(2);
    const ok = new RawConn(world, 'mqtt', '203.0.113.30', Infinity);
    ok.write([connect('fine', { username: 'control-a', password: Buffer.from('pw-a') })]);
    await until(() => packetsOf(ok).some((p) => p.cmd === 'connack'), { what: 'the CONNACK' });
    expect(packetsOf(ok).find((p) => p.cmd === 'connack')).toMatchObject({ reasonCode: 0 });
  });
});
