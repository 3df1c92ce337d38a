/**
 * One Gateway under a ManualScheduler: an EMQX watcher over an in-memory duplex receives $SYS
 * client events and node heartbeats (payloads as emqx_sys.erl publishes them); a node that stops
 * beating loses its rows (gateway_down) while the other node's stay; a lost watcher makes the
 * gateway unreachable, then down after gateway_timeout; when it is back, rows come from a fresh
 * snapshot of the REST API (EMQX GET /api/v5/clients payload).
 */
import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { generate, parser as makeParser, type Packet } from 'mqtt-packet';
import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { validate } from '../../src/config/dsl.js';
import { gatewaySchema } from '../../src/config/schema/gateways.js';
import type { GatewayApi } from '../../src/gateway/api/clients.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { gatewayCounters } from '../../src/gateway/gateway-metrics.js';
import { emqxClient } from '../../src/gateway/kinds/emqx.js';
import { mosquittoSys } from '../../src/gateway/kinds/mosquitto.js';
import type { SnapshotSession } from '../../src/gateway/types.js';
import { createMetrics } from '../../src/metrics.js';
import { createPresenceTable } from '../../src/presence/table.js';
import { ManualScheduler } from '../../src/time/manual.js';
import { FakeLiveness } from '../support/fake-liveness.js';
import { duplexPair as mqttDuplexPair } from '../support/duplex-pair.js';

const flush = () => new Promise<void>((res) => setImmediate(res));
const H = 'example.org';
const PAGE = JSON.parse(readFileSync(new URL('./fixtures/emqx-clients-page.json', import.meta.url), 'utf8')) as { page1: { data: object[] } };

const sysConnected = (node: string, id: string, at: number) =>
  JSON.stringify({ clientid: id, username: 'dev', ipaddress: '10.0.0.5:5000', sockport: 1883, protocol: 'mqtt', proto_name: 'MQTT', proto_ver: 5, connected_at: at, ts: at + 1, keepalive: 60, clean_start: true, expiry_interval: 0 });

describe('a gateway under the manual clock', () => {
  let sched: ManualScheduler;
  let table: ReturnType<typeof createPresenceTable>;
  let brokers: Duplex[];
  let snapshots: SnapshotSession[][];
  let gw: Gateway;
  let refuse: boolean;

  beforeEach(() => {
    sched = new ManualScheduler();
    table = createPresenceTable({ clock: sched.clock, scheduler: sched, liveness: new FakeLiveness(() => sched.clock.now()), feedSize: 100, offlineTtlMs: 3_600_000, maxOffline: 100 });
    brokers = [];
    snapshots = [];
    refuse = false;
    const config = validate(gatewaySchema, { kind: 'emqx', host: H, gateway_timeout: 10, poll_interval: 0, mqtt: { url: 'mqtt://emqx:1883', ping_interval: 15, ping_ack_timeout: 5 }, api: { url: 'http://emqx:18083' } });
    const api: GatewayApi = {
      snapshot: () => Promise.resolve(PAGE.page1.data.map((c) => emqxClient(c as Record<string, unknown>)!)).then((l) => (snapshots.push(l), l)),
    };
    gw = new Gateway({
      name: 'emqx1',
      config,
      ingest: table,
      clock: sched.clock,
      scheduler: sched,
      logger: pino({ level: 'silent' }),
      counters: gatewayCounters(createMetrics()),
      api,
      openTransport: () => {
        const [mine, theirs] = mqttDuplexPair();
        theirs.on('error', () => undefined);
        if (refuse) setImmediate(() => theirs.destroy()); // connection refused
        const p = makeParser({ protocolVersion: 4 });
        p.on('packet', (pkt: Packet) => {
          const reply: Packet | null = pkt.cmd === 'connect' ? { cmd: 'connack', returnCode: 0, sessionPresent: false } : pkt.cmd === 'subscribe' ? { cmd: 'suback', messageId: pkt.messageId ?? 1, granted: pkt.subscriptions.map(() => 0) } : pkt.cmd === 'pingreq' ? { cmd: 'pingresp' } : null;
          // Answer after the parser returns: a synchronous duplex would re-enter it.
          if (reply) setImmediate(() => theirs.write(generate(reply, { protocolVersion: 4 })));
        });
        theirs.on('data', (c: Buffer) => p.parse(c));
        brokers.push(theirs);
        return { stream: mine, ready: 'now' };
      },
    });
  });

  const publish = async (topic: string, payload: string) => {
    brokers.at(-1)!.write(generate({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 0, retain: false, dup: false }, { protocolVersion: 4 }));
    await flush();
  };
  const row = (id: string) => table.get({ host: H, transport: 'mqtt', id, source: 'emqx1' });
  const settle = async () => {
    for (let i = 0; i < 20; i++) await flush();
  };

  it('expires the rows of a node whose heartbeat stops, keeps the other node, and never pings a healthy one down', async () => {
    gw.start();
    await settle();
    expect(gw.status().state).toBe('up');
    expect(snapshots).toHaveLength(1); // the snapshot of the way up
    await publish('$SYS/brokers/emqx@n1/clients/a/connected', sysConnected('emqx@n1', 'a', 1000));
    await publish('$SYS/brokers/emqx@n2/clients/b/connected', sysConnected('emqx@n2', 'b', 1000));
    await publish('$SYS/brokers/emqx@n1/uptime', '100');
    await publish('$SYS/brokers/emqx@n2/uptime', '100');
    expect([row('a')?.meta.node, row('b')?.meta.node]).toEqual(['emqx@n1', 'emqx@n2']);
    for (let t = 0; t < 4; t++) {
      sched.advance(5_000); // n2 beats every 5 s (and the watcher's PINGREQs are answered); n1 is silent
      await publish('$SYS/brokers/emqx@n2/uptime', String(105 + 5 * t));
      await settle();
    }
    expect(row('a')).toMatchObject({ state: 'offline', last_disconnect_reason: 'gateway_down' });
    expect(row('b')?.state).toBe('online');
    // sensor-1 (from the snapshot of the way up) is on a node that never beat: nothing to judge it by.
    expect(gw.status()).toMatchObject({ state: 'up', nodes: ['emqx@n2'], online: 2 });
    expect(row('sensor-1')?.state).toBe('online');
  });

  it('goes unreachable when the watcher loses the broker, down after gateway_timeout, and back from a snapshot', async () => {
    gw.start();
    await settle();
    await publish('$SYS/brokers/emqx@n1/clients/x/connected', sysConnected('emqx@n1', 'x', 1000));
    refuse = true; // the broker is gone: every reconnect is refused
    brokers[0]!.destroy();
    await settle();
    expect(gw.status()).toMatchObject({ state: 'unreachable', channels: { watcher: { last_lost: 'closed' } } });
    for (let i = 0; i < 39; i++) {
      sched.advance(250);
      await settle();
    }
    expect(gw.status().state).toBe('unreachable');
    sched.advance(250); // gateway_timeout (10 s) after the loss
    await settle();
    expect(gw.status().state).toBe('down');
    expect(row('x')?.last_disconnect_reason).toBe('gateway_down');
    // Back: the next connection is let through, rows come from the REST snapshot.
    refuse = false;
    const before = snapshots.length;
    for (let i = 0; i < 240 && gw.status().state !== 'up'; i++) {
      sched.advance(250); // the backoff is capped at reconnect_max_ms (30 s)
      await settle();
    }
    expect(gw.status().state).toBe('up');
    expect(snapshots.length).toBe(before + 1);
    expect(row('sensor-1')).toMatchObject({ state: 'online', connected_at: Date.parse('2023-09-14T08:52:10.000+00:00'), meta: { node: 'emqx@10.0.0.1' } });
  });

  it('reads the Mosquitto 2.1 connection-state plugin topic (retained 1/0) as client events', () => {
    const on = mosquittoSys('$SYS/broker/connection/client/dev/1/state', Buffer.from('1'));
    expect(on).toMatchObject({ event: { type: 'connected', id: 'dev/1', node: 'broker' } });
    expect(mosquittoSys('$SYS/broker/connection/client/dev/state', Buffer.from('0'))).toMatchObject({ event: { type: 'disconnected' } });
    expect(mosquittoSys('$SYS/broker/connection/client/dev/state', Buffer.from('x'))).toBeNull();
    expect(mosquittoSys('$SYS/broker/uptime', Buffer.from('5 seconds'))).toEqual({ heartbeat: 'broker' });
  });
});
