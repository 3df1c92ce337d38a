/**
 * open-loop: QoS 1 and QoS 2 with publishers that wait for nothing but their own acknowledgements
 * (64 unacknowledged, what mqtt.js and Paho keep by default), 64-byte payloads, MQTT 3.1.1 on raw
 * sockets, side by side (issue 12). The closed-loop rows (flow.ts) never let a publisher run more
 * than 500 ahead of its subscribers, so they cannot see a broker drop what it acknowledged.
 * Shapes: 1->1, 10->10 (a topic and a subscriber per publisher), and 1->1 to a subscriber that
 * acknowledges 1,000 deliveries a second, and 1->1 to a persistent subscriber (clean session 0:
 * Vigil commits its session to SQLite before each refill). Rows: delivered, dropped (acknowledged to the publisher,
 * never delivered) and the time from the first PUBLISH to the last delivery (or to 3 s without
 * progress once every PUBLISH was acknowledged).
 */
import type { Socket } from 'node:net';
import { eachServer, parseOptions } from './common.js';
import { openMqtt, publishPacket, publishPacketId, pubackPacket, subscribePacket, TYPE } from './mqtt-wire.js';
import { sleep } from './proc.js';
import { note, record, table } from './report.js';
import type { RunningServer } from './servers.js';

const SCENARIO = 'open-loop';
const INFLIGHT = 64;
const PAYLOAD = Buffer.alloc(64, 0x61);
const PUBREC = 5;
const PUBREL = 6;
const PUBCOMP = 7;
/** PUBREC / PUBREL (flags 0b0010, 3.1.1 §3.6.1) / PUBCOMP of a packet id. */
const ack = (type: number, id: number) => Buffer.from([(type << 4) | (type === PUBREL ? 2 : 0), 2, id >> 8, id & 0xff]);

interface Case {
  name: string;
  pubs: number;
  perPub: number;
  /** Subscriber acknowledgements per second; null = at once. */
  ackRate: number | null;
  /** The subscriber connects with clean session 0 (Vigil stores its session in SQLite). */
  persistent?: boolean;
}


async function runCase(server: RunningServer, c: Case, qos: 1 | 2): Promise<void> {
  const port = server.mqttPort ?? 0;
  const tag = `ol-${c.pubs}-${c.ackRate ?? 0}-${c.persistent ? 'p' : 'c'}-q${qos}`;
  const socks: Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  let delivered = 0;
  let completed = 0;
  let lastProgress = performance.now();
  const starts: (() => void)[] = [];
  try {
    for (let i = 0; i < c.pubs; i++) {
      const topic = `bench/${tag}/${i}`;
      let subscribed: () => void = () => undefined;
      const subacked = new Promise<void>((r) => (subscribed = r));
      const owed: Buffer[] = [];
      const now: Buffer[] = [];
      const sub: Socket = await openMqtt(port, `${tag}-s${i}`, (type, flags, body) => {
        if (type === TYPE.PUBLISH) {
          delivered++;
          lastProgress = performance.now();
          const id = publishPacketId(body);
          const a = ((flags >> 1) & 3) === 2 ? ack(PUBREC, id) : pubackPacket(id);
          (c.ackRate === null ? now : owed).push(a);
        } else if (type === PUBREL) now.push(ack(PUBCOMP, (body[0]! << 8) | body[1]!));
        else if (type === TYPE.SUBACK) subscribed();
      }, !c.persistent);
      // The acknowledgements of one received chunk leave in one write (after the framer's 'data' listener).
      sub.on('data', () => now.length > 0 && sub.write(Buffer.concat(now.splice(0))));
      socks.push(sub);
      if (c.ackRate !== null) {
        const perTick = c.ackRate / 100;
        timers.push(setInterval(() => owed.length > 0 && sub.write(Buffer.concat(owed.splice(0, perTick))), 10));
      }
      sub.write(subscribePacket(topic, qos as 1));
      await subacked;
      let sent = 0;
      let nextId = 0;
      const template = publishPacket(topic, PAYLOAD, qos as 1, 1);
      const send = (pub: Socket, k: number) => {
        const out: Buffer[] = [];
        for (; k > 0 && sent < c.perPub; k--, sent++) {
          nextId = (nextId % 65535) + 1;
          const b = Buffer.from(template);
          b.writeUInt16BE(nextId, b.length - PAYLOAD.length - 2);
          out.push(b);
        }
        if (out.length > 0) pub.write(Buffer.concat(out));
      };
      const rels: Buffer[] = [];
      let freed = 0;
      const pub: Socket = await openMqtt(port, `${tag}-p${i}`, (type, _f, body) => {
        const id = (body[0]! << 8) | body[1]!;
        if (type === PUBREC) rels.push(ack(PUBREL, id));
        else if (type === TYPE.PUBACK || type === PUBCOMP) {
          completed++;
          freed++;
          lastProgress = performance.now();
        }
      });
      // Per received chunk: its PUBRELs, then as many new PUBLISH as acknowledgements freed.
      pub.on('data', () => {
        if (rels.length > 0) pub.write(Buffer.concat(rels.splice(0)));
        if (freed > 0) send(pub, freed);
        freed = 0;
      });
      socks.push(pub);
      starts.push(() => send(pub, INFLIGHT));
    }
    const total = c.pubs * c.perPub;
    const t0 = performance.now();
    for (const s of starts) s();
    let end = t0;
    for (;;) {
      await sleep(20);
      if (delivered >= total && completed >= total) {
        end = lastProgress;
        break;
      }
      if (performance.now() - lastProgress > 3000) {
        end = lastProgress;
        break;
      }
    }
    const put = (row: string, unit: string, value: number) => record({ scenario: SCENARIO, row: `QoS ${qos} ${c.name}: ${row}`, unit, server: server.kind, label: server.label, value });
    put('delivered', 'msgs', delivered);
    put('dropped (acked, not delivered)', 'msgs', Math.max(0, completed - delivered));
    put('time', 's', (end - t0) / 1000);
    put('delivered per second', '1/s', (delivered / (end - t0)) * 1000);
    if (completed < total) note(SCENARIO, `${server.label} QoS ${qos} ${c.name}: ${total - completed} of ${total} PUBLISH never acknowledged`);
  } finally {
    for (const t of timers) clearInterval(t);
    for (const s of socks) s.destroy();
    await sleep(300);
  }
}

export const openLoop = {
  describe: 'open-loop QoS 1/2, 64 in flight per publisher, 1->1, 10->10 and a subscriber acking 1,000/s: delivered, dropped, time (Vigil, Aedes, Mosquitto)',
  async run(args: string[]): Promise<void> {
    const opts = parseOptions(args);
    const n = opts.n?.[0] ?? (opts.quick ? 10_000 : 50_000);
    const cases: Case[] = [
      { name: '1->1', pubs: 1, perPub: n, ackRate: null },
      { name: '10->10', pubs: 10, perPub: n / 10, ackRate: null },
      { name: '1->1, subscriber acks 1,000/s', pubs: 1, perPub: opts.quick ? 1_000 : 3_000, ackRate: 1_000 },
      { name: '1->1, persistent subscriber', pubs: 1, perPub: n, ackRate: null, persistent: true },
    ];
    // --max-inflight N: Vigil's mqtt.max_inflight (the default's measurement, docs/benchmarks.md).
    const i = args.indexOf('--max-inflight');
    const vigilMqtt = i >= 0 ? { max_inflight: Number(args[i + 1]) } : {};
    await eachServer(SCENARIO, ['vigil', 'aedes', 'mosquitto'], opts, { vigilMqtt }, async (server) => {
      for (const qos of [1, 2] as const) for (const c of cases) await runCase(server, c, qos);
    });
    console.log(`\n${table(SCENARIO)}\n`);
  },
};
