/**
 * Issue 12 item 0: QoS 1/2 back-pressure (src/mqtt/backpressure.ts, connection-input.ts). With
 * default limits, a publisher that keeps 64 QoS 1 in flight, or writes everything as one burst, to a
 * subscriber that acknowledges each delivery a turn later: every message arrives in order, nothing is
 * dropped, and the subscriber's queue never passes its high-water mark (500). A subscriber that never
 * acknowledges pauses its publisher only until backpressure_timeout; then the drop rules apply.
 */
import { generate, type IPublishPacket } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { HOST, rig, settle, type TestClient } from './harness.js';

const N = 5_000;
const turn = () => new Promise<void>((r) => setImmediate(r));
const publish = (i: number, topic = 'flow/t'): IPublishPacket => ({ cmd: 'publish', topic, payload: Buffer.alloc(64, i & 0xff), qos: 1, retain: false, dup: false, messageId: (i % 65_535) + 1 });

async function counter(r: ReturnType<typeof rig>, name: string): Promise<number> {
  const text = await r.deps.metrics.registry.getSingleMetricAsString(name);
  return Number(/ (\d+)$/m.exec(text)?.[1] ?? 'NaN');
}

async function setup(version: 4 | 5) {
  const r = rig({ mqtt: { max_connection_rate_per_ip: 0 } });
  const sub = r.client(version);
  await sub.connect({}, 'slow-sub');
  sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'flow/#', qos: 1 }] });
  await settle();
  sub.take('suback');
  const pub = r.client(version, '10.0.0.2');
  await pub.connect({}, 'fast-pub');
  return { r, sub, pub };
}

/** Turn by turn: the subscriber acks what it got the turn before; `feed` may send more. */
async function drive(r: ReturnType<typeof rig>, sub: TestClient, feed: () => void) {
  let got = 0;
  let maxQueued = 0;
  const payloads: number[] = [];
  for (let turns = 0; got < N && turns < 200_000; turns++) {
    feed();
    await turn();
    const ps = sub.take('publish');
    for (const p of ps) {
      payloads.push((p.payload as Buffer)[0]!);
      sub.send({ cmd: 'puback', messageId: p.messageId! });
    }
    got += ps.length;
    maxQueued = Math.max(maxQueued, r.service.broker.sessions.figures(HOST, 'slow-sub')?.queued ?? 0);
  }
  return { got, maxQueued, payloads };
}

/** A subscriber that never acks on 'q', and a publisher that wrote 100 QoS 1 to it in one burst. */
async function lazyPair(r: ReturnType<typeof rig>) {
  const sub = r.client(4);
  await sub.connect({}, 'lazy');
  sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'q', qos: 1 }] });
  await settle();
  const pub = r.client(4, '10.0.0.2');
  await pub.connect({}, 'pub');
  pub.raw(Buffer.concat(Array.from({ length: 100 }, (_, i) => generate(publish(i, 'q'), { protocolVersion: 4 }))));
  await settle(20);
  return { sub, pub };
}

describe('QoS 1 back-pressure at default limits', () => {
  for (const version of [4, 5] as const) {
    it(`v${version}: 64 in flight, acks a turn later: all ${N} delivered in order, none dropped, queue <= 500`, async () => {
      const { r, sub, pub } = await setup(version);
      let sent = 0;
      const { got, maxQueued, payloads } = await drive(r, sub, () => {
        // 64 unacknowledged: the first 64, then one more per PUBACK.
        for (let more = sent === 0 ? 64 : pub.take('puback').length; more > 0 && sent < N; more--) pub.send(publish(sent++));
      });
      expect(got).toBe(N);
      expect(payloads).toEqual(Array.from({ length: N }, (_, i) => i & 0xff));
      expect(await counter(r, 'vigil_mqtt_messages_dropped_total')).toBe(0);
      expect(maxQueued).toBeLessThanOrEqual(500);
    });
  }

  it(`one burst of ${N} in a single write: all delivered, none dropped, no publisher left paused`, async () => {
    const { r, sub, pub } = await setup(4);
    pub.raw(Buffer.concat(Array.from({ length: N }, (_, i) => generate(publish(i), { protocolVersion: 4 }))));
    const { got, maxQueued, payloads } = await drive(r, sub, () => undefined);
    expect(got).toBe(N);
    expect(payloads).toEqual(Array.from({ length: N }, (_, i) => i & 0xff));
    expect(await counter(r, 'vigil_mqtt_messages_dropped_total')).toBe(0);
    expect(maxQueued).toBeLessThanOrEqual(500);
    await settle();
    expect(pub.take('puback')).toHaveLength(N);
    expect(r.service.broker.pressure.pausedCount).toBe(0);
  });

  it('a subscriber that never acks pauses its publisher until backpressure_timeout, then the queue drops', async () => {
    const r = rig({ mqtt: { max_connection_rate_per_ip: 0, max_mqueue_len: 20, backpressure_timeout: 5 } });
    const { pub } = await lazyPair(r);
    // 64 in flight (max_inflight), 10 queued (the high-water mark, half the queue), the rest unread.
    expect(r.service.broker.sessions.figures(HOST, 'lazy')?.queued).toBe(10);
    expect(pub.take('puback')).toHaveLength(74);
    expect(r.service.broker.pressure.pausedCount).toBe(1);
    await r.advance(5_000);
    await settle(20);
    expect(pub.take('puback')).toHaveLength(26);
    expect(r.service.broker.sessions.figures(HOST, 'lazy')?.queued).toBe(20);
    expect(await counter(r, 'vigil_mqtt_messages_dropped_total')).toBe(100 - 64 - 20);
    expect(await counter(r, 'vigil_mqtt_backpressure_timeouts_total')).toBe(1);
    expect(pub.closed).toBe(false);
  });

  it('the publisher reads on when the full subscriber disconnects', async () => {
    const r = rig({ mqtt: { max_connection_rate_per_ip: 0, max_mqueue_len: 20 } });
    const { sub, pub } = await lazyPair(r);
    expect(pub.take('puback')).toHaveLength(74);
    sub.drop();
    await settle(20);
    expect(pub.take('puback')).toHaveLength(26);
    expect(r.service.broker.pressure.pausedCount).toBe(0);
  });
});
