/**
 * The MQTT watcher over an in-memory duplex with a ManualScheduler: a scripted broker on the other
 * side reads its packets with mqtt-packet. Netty's writer-idle scheme from the seed: PINGREQ after
 * exactly ping_interval of the watcher's own silence, `unreachable` after exactly
 * ping_ack_timeout without PINGRESP, then a jittered, capped backoff before reconnecting.
 */
import type { Duplex } from 'node:stream';
import { generate, parser as makeParser, type Packet } from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { backoffDelay, type WatcherSettings } from '../../src/gateway/watcher/machine.js';
import { MqttWatcher } from '../../src/gateway/watcher/watcher.js';
import { ManualScheduler } from '../../src/time/manual.js';
import { duplexPair as mqttDuplexPair } from '../support/duplex-pair.js';

const flush = () => new Promise<void>((r) => setImmediate(r));

const SETTINGS: WatcherSettings = {
  clientId: 'vigil-watch-gw',
  username: 'watcher',
  password: 's3cret',
  filters: ['$SYS/+/new/clients', '$SYS/+/disconnect/clients'],
  pingIntervalMs: 15_000,
  ackTimeoutMs: 5_000,
  reconnectMinMs: 500,
  reconnectMaxMs: 4_000,
  rand: () => 0.5,
};

/** One broker side per connection the watcher opens. */
class Broker {
  readonly got: { at: number; packet: Packet }[] = [];
  constructor(
    readonly side: Duplex,
    private readonly sched: ManualScheduler,
  ) {
    const p = makeParser({ protocolVersion: 4 });
    p.on('packet', (packet: Packet) => this.got.push({ at: sched.clock.now(), packet }));
    side.on('data', (c: Buffer) => p.parse(c));
    side.on('error', () => undefined);
  }
  send(packet: Packet): void {
    this.side.write(generate(packet, { protocolVersion: 4 }));
  }
  cmds(): string[] {
    return this.got.map((g) => g.packet.cmd);
  }
  at(cmd: string): number[] {
    return this.got.filter((g) => g.packet.cmd === cmd).map((g) => g.at);
  }
}

let watcher: MqttWatcher | null = null;
afterEach(() => watcher?.stop());

function rig(settings: WatcherSettings = SETTINGS) {
  const sched = new ManualScheduler();
  const brokers: Broker[] = [];
  const events: string[] = [];
  const messages: [string, string][] = [];
  const rtts: number[] = [];
  watcher = new MqttWatcher({
    settings,
    endpoint: { host: '127.0.0.1', port: 1, tls: null },
    clock: sched.clock,
    scheduler: sched,
    open: () => {
      const [mine, theirs] = mqttDuplexPair();
      brokers.push(new Broker(theirs, sched));
      return { stream: mine, ready: 'now' };
    },
    onUp: (refused) => events.push(`up${refused.length ? ` refused=${refused.join(',')}` : ''}@${sched.clock.now()}`),
    onLost: (why) => events.push(`lost:${why}@${sched.clock.now()}`),
    onMessage: (t, p) => messages.push([t, p.toString()]),
    onRtt: (ms) => rtts.push(ms),
  });
  const w = watcher;
  /** Start and answer CONNACK and SUBACK at once; resolves at the time the SUBSCRIBE was written. */
  async function up(b = brokers.length): Promise<number> {
    if (b === 0) w.start();
    await flush();
    const broker = brokers[b]!;
    broker.send({ cmd: 'connack', returnCode: 0, sessionPresent: false });
    await flush();
    broker.send({ cmd: 'suback', messageId: 1, granted: settings.filters.map(() => 0) });
    await flush();
    return broker.at('subscribe')[0]!;
  }
  return { sched, brokers, events, messages, rtts, w, up };
}

describe('MQTT watcher (writer-idle PINGREQ, reconnect)', () => {
  it('connects as an MQTT 3.1.1 client with its credentials and Keep Alive = ping_interval, subscribes at QoS 0', async () => {
    const r = rig();
    const t0 = await r.up();
    const [connect, subscribe] = r.brokers[0]!.got.map((g) => g.packet);
    expect(connect).toMatchObject({ cmd: 'connect', protocolVersion: 4, clean: true, clientId: 'vigil-watch-gw', keepalive: 15, username: 'watcher' });
    expect(String((connect as { password?: Buffer }).password)).toBe('s3cret');
    expect(subscribe).toMatchObject({ cmd: 'subscribe', subscriptions: SETTINGS.filters.map((topic) => ({ topic, qos: 0 })) });
    expect(r.events).toEqual([`up@${t0}`]);
    r.brokers[0]!.send({ cmd: 'publish', topic: '$SYS/b1/new/clients', payload: Buffer.from('dev1'), qos: 0, retain: false, dup: false });
    await flush();
    expect(r.messages).toEqual([['$SYS/b1/new/clients', 'dev1']]);
  });

  it('sends PINGREQ after exactly ping_interval of its own silence, and every ping_interval while answered', async () => {
    const r = rig();
    const t0 = await r.up();
    const b = r.brokers[0]!;
    r.sched.advance(15_000 - 1);
    await flush();
    expect(b.at('pingreq')).toEqual([]);
    r.sched.advance(1);
    await flush();
    expect(b.at('pingreq')).toEqual([t0 + 15_000]);
    r.sched.advance(40); // the broker answers 40 ms later
    b.send({ cmd: 'pingresp' });
    await flush();
    expect(r.rtts).toEqual([40]);
    // Inbound traffic does not postpone it: writer-idle counts the watcher's writes only.
    b.send({ cmd: 'publish', topic: '$SYS/b1/heartbeat', payload: Buffer.from('b1'), qos: 0, retain: false, dup: false });
    r.sched.advance(15_000 - 40);
    await flush();
    expect(b.at('pingreq')).toEqual([t0 + 15_000, t0 + 30_000]);
    expect(r.events).toEqual([`up@${t0}`]);
  });

  it('marks the gateway unreachable after exactly ping_ack_timeout without PINGRESP, then reconnects after the jittered backoff', async () => {
    const r = rig();
    const t0 = await r.up();
    r.sched.advance(15_000);
    await flush();
    r.sched.advance(5_000 - 1);
    await flush();
    expect(r.events).toEqual([`up@${t0}`]);
    r.sched.advance(1);
    await flush();
    const lostAt = t0 + 20_000;
    expect(r.events).toEqual([`up@${t0}`, `lost:ping_timeout@${lostAt}`]);
    expect(r.brokers[0]!.side.destroyed || r.brokers[0]!.side.readableEnded).toBe(true);
    // attempt 1: 500 ms, jitter 0.5 -> 375 ms
    r.sched.advance(374);
    await flush();
    expect(r.brokers).toHaveLength(1);
    r.sched.advance(1);
    await flush();
    expect(r.brokers).toHaveLength(2);
    expect(r.brokers[1]!.cmds()).toEqual(['connect']);
    const t1 = await r.up(1);
    expect(r.events.at(-1)).toBe(`up@${t1}`);
  });

  it('backs off exponentially up to reconnect_max_ms on refused CONNACKs and closed connections', async () => {
    const r = rig();
    r.w.start();
    await flush();
    r.brokers[0]!.send({ cmd: 'connack', returnCode: 5, sessionPresent: false });
    await flush();
    expect(r.events).toEqual([`lost:connack_refused_5@${r.sched.clock.now()}`]);
    const delays = [1, 2, 3, 4, 5].map((a) => backoffDelay(a, SETTINGS));
    expect(delays).toEqual([375, 750, 1500, 3000, 3000]);
    for (let i = 0; i < 3; i++) {
      r.sched.advance(delays[i]!);
      await flush();
      expect(r.brokers).toHaveLength(i + 2);
      r.brokers[i + 1]!.side.destroy(); // refused at the TCP level
      await flush();
    }
    expect(r.events.filter((e) => e.startsWith('lost:closed'))).toHaveLength(3);
  });

  it('gives CONNACK and SUBACK ping_ack_timeout each and reports which subscriptions the gateway refused', async () => {
    const r = rig();
    r.w.start();
    await flush();
    r.sched.advance(5_000);
    await flush();
    expect(r.events).toEqual([`lost:connack_timeout@${r.sched.clock.now()}`]);
    r.sched.advance(375);
    await flush();
    const b = r.brokers[1]!;
    b.send({ cmd: 'connack', returnCode: 0, sessionPresent: false });
    await flush();
    b.send({ cmd: 'suback', messageId: 1, granted: [0, 128] });
    await flush();
    expect(r.events.at(-1)).toBe(`up refused=$SYS/+/disconnect/clients@${r.sched.clock.now()}`);
    r.w.stop();
    await flush();
    expect(b.cmds().at(-1)).toBe('disconnect');
  });
});
