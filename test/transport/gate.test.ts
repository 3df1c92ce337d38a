/**
 * src/transport/gate.ts: the connection limits both protocols share, on manual time: the
 * listener-wide max_conn_rate (issue 12 item 7), the per-address rate and count, the total, the
 * host's own limits at the stream header, the handshake timeout at its exact deadline with one
 * timer for every waiting connection, and the connections gauge by transport.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Via } from '../../src/liveness/types.js';
import { createMetrics } from '../../src/metrics.js';
import { ManualScheduler } from '../../src/time/manual.js';
import { ConnectionGate, type Gated, type HostLimits } from '../../src/transport/gate.js';
import { ListenerRate } from '../../src/transport/listener-rate.js';

class Conn implements Gated {
  timedOut = 0;
  constructor(
    readonly remoteIp: string,
    readonly openedAtMono: number,
    public via: Via = 'tcp',
  ) {}
  handshakeTimeout(): void {
    this.timedOut++;
  }
}

const LIMITS: HostLimits = { max_connections: 0, max_connections_per_ip: 0, max_connection_rate_per_ip: 0, auth_failure_delay_ms: 0 };

function make(hosts: Record<string, Partial<HostLimits>> = { a: {} }, handshakeTimeoutMs = 10_000) {
  const scheduler = new ManualScheduler();
  const clock = scheduler.clock;
  const metrics = createMetrics();
  const limitHits = metrics.counter('vigil_mqtt_limit_hits_total', 'limits', ['limit'] as const);
  const gate = new ConnectionGate<Conn>({
    protocol: 'mqtt',
    hosts: Object.fromEntries(Object.entries(hosts).map(([h, l]) => [h, { ...LIMITS, ...l }])),
    handshakeTimeoutMs,
    handshakeLimit: 'connect_timeout',
    clock,
    scheduler,
    logger: pino({ level: 'silent' }),
    metrics,
    limitHits,
  });
  const hits = async () => Object.fromEntries((await limitHits.get()).values.map((v) => [v.labels.limit, v.value]));
  const open = (ip: string, via: Via = 'tcp') => {
    const c = new Conn(ip, clock.monotonic(), via);
    gate.opened(c);
    return c;
  };
  return { scheduler, clock, metrics, gate, hits, open };
}

describe('connection gate', () => {
  it('max_conn_rate: a listener takes its rate per second, refuses past it (counted), and refills', async () => {
    const { gate, clock, hits } = make();
    const rate = new ListenerRate('mqtt', 1_000, clock);
    const taken = Array.from({ length: 1_500 }, (_, i) => gate.attempt(`10.0.${i >> 8}.${i & 255}`, rate)).filter(Boolean).length;
    expect(taken).toBe(1_000); // one second's worth, whatever the addresses
    expect(await hits()).toEqual({ max_conn_rate: 500 });
    clock.set(clock.now() + 250);
    expect(Array.from({ length: 400 }, () => gate.attempt('10.1.0.1', rate)).filter(Boolean).length).toBe(250);
    // 0 = no limit; and each listener has its own bucket.
    const open = new ListenerRate('mqtt_ws', 0, clock);
    expect(Array.from({ length: 5_000 }, () => gate.attempt('10.2.0.1', open)).every(Boolean)).toBe(true);
  });

  it('MQTT defaults: no per-address rate, so a thousand devices behind one NAT all get in at once', async () => {
    const { gate, clock, hits } = make({ a: { max_connections_per_ip: 1_024 } });
    const rate = new ListenerRate('mqtt', 1_000, clock);
    let ok = 0;
    for (let i = 0; i < 1_000; i++) {
      if (!gate.attempt('198.51.100.7', rate) || !gate.admit('198.51.100.7')) continue;
      gate.opened(new Conn('198.51.100.7', 0));
      ok++;
    }
    expect(ok).toBe(1_000);
    expect(await hits()).toEqual({});
  });

  it('per-address rate (largest of the hosts) and count, and the total (sum of the hosts)', async () => {
    const { gate, clock, hits, open } = make({ a: { max_connection_rate_per_ip: 3, max_connections_per_ip: 2, max_connections: 2 }, b: { max_connection_rate_per_ip: 2, max_connections_per_ip: 1, max_connections: 1 } });
    const rate = new ListenerRate('mqtt', 0, clock);
    expect([1, 2, 3, 4].map(() => gate.attempt('192.0.2.1', rate))).toEqual([true, true, true, false]);
    expect(gate.admit('192.0.2.1')).toBe(true);
    open('192.0.2.1');
    open('192.0.2.1');
    expect(gate.admit('192.0.2.1')).toBe(false); // per address: max(2, 1)
    open('192.0.2.2');
    expect(gate.admit('192.0.2.3')).toBe(false); // total: 2 + 1
    expect(await hits()).toEqual({ max_connection_rate_per_ip: 1, max_connections_per_ip: 1, max_connections: 1 });
  });

  it('admitHost: the header host\'s own per-address and total limits, released at close', async () => {
    const { gate, hits, open } = make({ a: { max_connections_per_ip: 1 }, b: { max_connections: 1 } });
    const c1 = open('192.0.2.1');
    const c2 = open('192.0.2.1');
    expect(gate.admitHost(c1, 'a')).toBe(true);
    expect(gate.admitHost(c2, 'a')).toBe(false);
    expect(gate.admitHost(c2, 'b')).toBe(true);
    const c3 = open('192.0.2.9');
    expect(gate.admitHost(c3, 'b')).toBe(false);
    gate.closed(c2);
    expect(gate.admitHost(c3, 'b')).toBe(true);
    expect(await hits()).toEqual({ max_connections_per_ip: 1, max_connections: 1 });
  });

  it('hold/release: a session waiting for its resume (XEP-0198) keeps its slot of the total, its address and its host', async () => {
    const { gate, open } = make({ a: { max_connections: 2, max_connections_per_ip: 1 } });
    gate.hold('a', '192.0.2.1');
    expect(gate.admit('192.0.2.1')).toBe(false); // per address (1), the held slot counts
    const c = open('192.0.2.2');
    expect(gate.admit('192.0.2.3')).toBe(false); // total (2): one connection + one held
    expect(gate.admitHost(c, 'a')).toBe(true);
    gate.release('a', '192.0.2.1');
    expect(gate.admit('192.0.2.1')).toBe(true);
    expect(gate.admit('192.0.2.3')).toBe(true);
  });

  it('handshake timeout: each waiting connection at its exact deadline, one timer for all, none once established', async () => {
    const { gate, scheduler, hits, open } = make({ a: {} }, 10_000);
    const a = open('192.0.2.1');
    scheduler.advance(3_000);
    const b = open('192.0.2.2');
    const c = open('192.0.2.3');
    gate.established(c);
    expect(scheduler.pending).toBe(1);
    scheduler.advance(6_999);
    expect(a.timedOut).toBe(0);
    scheduler.advance(1);
    expect([a.timedOut, b.timedOut]).toEqual([1, 0]);
    gate.closed(a);
    scheduler.advance(2_999);
    expect(b.timedOut).toBe(0);
    scheduler.advance(1);
    expect([b.timedOut, c.timedOut]).toEqual([1, 0]);
    gate.closed(b);
    expect(scheduler.pending).toBe(0);
    expect(await hits()).toEqual({ connect_timeout: 2 });
  });

  it('open connections by transport are read at scrape time (a connection that turned tls counts as tls)', async () => {
    const { gate, metrics, open } = make();
    const x = open('192.0.2.1');
    open('192.0.2.2', 'ws');
    open('192.0.2.3', 'wss');
    const scrape = () => metrics.registry.getSingleMetricAsString('vigil_mqtt_connections');
    expect(await scrape()).toContain('vigil_mqtt_connections{via="tcp"} 1');
    x.via = 'tls';
    const text = await scrape();
    expect(text).toContain('vigil_mqtt_connections{via="tcp"} 0');
    expect(text).toContain('vigil_mqtt_connections{via="tls"} 1');
    expect(text).toContain('vigil_mqtt_connections{via="ws"} 1');
    expect(text).toContain('vigil_mqtt_connections{via="wss"} 1');
    gate.closed(x);
    expect(await scrape()).toContain('vigil_mqtt_connections{via="tls"} 0');
  });
});
