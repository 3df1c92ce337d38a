/**
 * fanout and p2p: message throughput through the broker with 64-byte payloads, QoS 0 and QoS 1,
 * MQTT 3.1.1, generated in this process (at most ~110 sockets). Shapes: p2p 1->1 and 10->10 (each
 * publisher has its own topic and subscriber), fanout 1->100 (one topic, 100 subscribers).
 *
 * Closed loop: a publisher may be at most WINDOW messages ahead of what its subscribers have
 * received, so queues stay bounded and no broker drops messages; QoS 1 publishers also wait for
 * PUBACKs (at most WINDOW unacknowledged), subscribers PUBACK every QoS 1 delivery. Figures over a
 * window after a 1 s warm-up (0.5 s with --quick): delivered messages/s, server CPU per delivered message, generator CPU.
 */
import type { Socket } from 'node:net';
import { eachServer, ownCpuMs, parseOptions } from './common.js';
import { openMqtt as open, publishPacket, publishPacketId, pubackPacket, subscribePacket, TYPE } from './mqtt-wire.js';
import { procSampleSum, sleep } from './proc.js';
import { note, record, table } from './report.js';

/** Where a case runs: one server, or a cluster (publishers on `pubPort`, CPU summed over `pids`). */
export interface FlowTarget {
  kind: string;
  label: string;
  pid: number;
  /** Subscribers' port (and publishers' unless `pubPort`). */
  mqttPort?: number;
  pubPort?: number;
  /** Processes whose CPU is summed (default: `pid`). */
  pids?: number[];
}

const WINDOW = 500;
const BATCH = 50;
const PAYLOAD = Buffer.alloc(64, 0x61);

interface Shape {
  name: string;
  pubs: number;
  subsPerPub: number;
  /** All subscribers on one topic (fanout) or one topic per publisher (p2p). */
  sharedTopic: boolean;
}

export const SHAPES: Record<'p2p' | 'fanout', Shape[]> = {
  p2p: [
    { name: '1->1', pubs: 1, subsPerPub: 1, sharedTopic: false },
    { name: '10->10', pubs: 10, subsPerPub: 1, sharedTopic: false },
  ],
  fanout: [{ name: '1->100', pubs: 1, subsPerPub: 100, sharedTopic: true }],
};


interface Pub {
  sock: Socket;
  topic: string;
  sent: number;
  acked: number;
  /** Deliveries received by this publisher's subscribers. */
  received: number;
  fan: number;
  nextId: number;
  blocked: boolean;
  /** The PUBLISH bytes; QoS 1 copies get their packet id patched in. */
  template: Buffer;
}

export async function runCase(server: FlowTarget, scenario: string, shape: Shape, qos: 0 | 1, windowS: number, warmupMs: number): Promise<void> {
  const port = server.mqttPort ?? 0;
  const pubPort = server.pubPort ?? port;
  const pids = server.pids ?? [server.pid];
  const tag = `${scenario}-${shape.name}-q${qos}`;
  const socks: Socket[] = [];
  const pubs: Pub[] = [];
  let running = true;
  const pump = (p: Pub) => {
    if (!running || p.blocked) return;
    for (;;) {
      let k = Math.min(BATCH, Math.floor(WINDOW - (p.sent - p.received / p.fan)));
      if (qos === 1) k = Math.min(k, WINDOW - (p.sent - p.acked));
      if (k <= 0) break;
      const out = Buffer.allocUnsafe(k * p.template.length);
      for (let i = 0; i < k; i++) {
        const at = i * p.template.length;
        p.template.copy(out, at);
        if (qos === 1) {
          p.nextId = (p.nextId % 65535) + 1;
          out.writeUInt16BE(p.nextId, at + p.template.length - PAYLOAD.length - 2);
        }
      }
      p.sent += k;
      if (!p.sock.write(out)) {
        p.blocked = true;
        p.sock.once('drain', () => {
          p.blocked = false;
          pump(p);
        });
        return;
      }
    }
  };
  const pending = new Set<Pub>();
  let scheduled = false;
  const schedule = (p: Pub) => {
    pending.add(p);
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      for (const q of pending) pump(q);
      pending.clear();
    });
  };
  try {
    for (let i = 0; i < shape.pubs; i++) {
      const topic = shape.sharedTopic ? `bench/${tag}` : `bench/${tag}/${i}`;
      const pub: Pub = { sock: null as unknown as Socket, topic, sent: 0, acked: 0, received: 0, fan: shape.subsPerPub, nextId: 0, blocked: false, template: publishPacket(topic, PAYLOAD, qos, 1) };
      for (let j = 0; j < shape.subsPerPub; j++) {
        let subscribed: () => void = () => undefined;
        const subacked = new Promise<void>((r) => (subscribed = r));
        // PUBACKs of one received chunk go out in one write (after the framer's 'data' listener).
        const acks: Buffer[] = [];
        const sub = await open(port, `${tag}-s${i}-${j}`, (type, flags, body) => {
          if (type === TYPE.PUBLISH) {
            pub.received++;
            if (((flags >> 1) & 3) > 0) acks.push(pubackPacket(publishPacketId(body)));
            schedule(pub);
          } else if (type === TYPE.SUBACK) subscribed();
        });
        sub.on('data', () => {
          if (acks.length === 0) return;
          sub.write(acks.length === 1 ? (acks[0] as Buffer) : Buffer.concat(acks));
          acks.length = 0;
        });
        socks.push(sub);
        sub.write(subscribePacket(topic, qos));
        await subacked;
      }
      pub.sock = await open(pubPort, `${tag}-p${i}`, (type) => {
        if (type === TYPE.PUBACK) {
          pub.acked++;
          schedule(pub);
        }
      });
      socks.push(pub.sock);
      pubs.push(pub);
    }
    for (const p of pubs) pump(p);
    await sleep(warmupMs);
    const delivered = () => pubs.reduce((a, p) => a + p.received, 0);
    const d0 = delivered();
    const s0 = procSampleSum(pids);
    const g0 = ownCpuMs();
    const t0 = performance.now();
    await sleep(windowS * 1000);
    const d1 = delivered();
    const s1 = procSampleSum(pids);
    const g1 = ownCpuMs();
    const ms = performance.now() - t0;
    const n = d1 - d0;
    const put = (row: string, unit: string, value: number) => record({ scenario, row: `QoS ${qos} ${shape.name}: ${row}`, unit, server: server.kind, label: server.label, value });
    put('delivered msgs/s', '1/s', (n / ms) * 1000);
    put('server CPU per delivered msg', 'us', ((s1.cpuMs - s0.cpuMs) * 1000) / n);
    put('of which in the kernel', 'us', ((s1.sysMs - s0.sysMs) * 1000) / n);
    put('server CPU', '% of a core', ((s1.cpuMs - s0.cpuMs) / ms) * 100);
    put('generator CPU', '% of a core', ((g1 - g0) / ms) * 100);
    if (n === 0) note(scenario, `${server.label} QoS ${qos} ${shape.name}: nothing delivered`);
    for (const p of pubs) if (p.received > p.sent * p.fan) note(scenario, `${server.label}: ${p.topic} received ${p.received} > sent ${p.sent} x ${p.fan} (counting error)`);
  } finally {
    running = false;
    for (const s of socks) s.destroy();
    await sleep(500);
  }
}

function makeRun(scenario: 'p2p' | 'fanout') {
  return async (args: string[]): Promise<void> => {
    const opts = parseOptions(args);
    const windowS = opts.window ?? (opts.quick ? 1 : 8);
    const cases = [0, 1].flatMap((qos) => SHAPES[scenario].map((shape) => ({ qos: qos as 0 | 1, shape })));
    const warmupMs = opts.quick ? 500 : 1000;
    const kinds = ['vigil', 'aedes', 'mosquitto'] as const;
    if (opts.quick) {
      // Smoke run: one broker per server for all cases (fewer start-ups).
      await eachServer(scenario, [...kinds], opts, {}, async (server) => {
        for (const c of cases) await runCase(server, scenario, c.shape, c.qos, windowS, warmupMs);
      });
    } else {
      // A fresh broker per case: a broker that falls over in one case (Aedes 1.2 has overflowed
      // its stack in mqemitter under this load) loses that case only.
      for (const c of cases) await eachServer(scenario, [...kinds], opts, {}, (server) => runCase(server, scenario, c.shape, c.qos, windowS, warmupMs));
    }
    console.log(`\n${table(scenario)}\n`);
  };
}

export const fanout = {
  describe: 'QoS 0/1 fan-out 1->100, 64-byte payloads: delivered msgs/s and server CPU per delivery (Vigil, Aedes, Mosquitto)',
  run: makeRun('fanout'),
};

export const p2p = {
  describe: 'QoS 0/1 point to point 1->1 and 10->10, 64-byte payloads: delivered msgs/s and server CPU per delivery (Vigil, Aedes, Mosquitto)',
  run: makeRun('p2p'),
};
