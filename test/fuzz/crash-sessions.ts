/**
 * Persistent MQTT sessions for the crash harness (crash.ts): two publishers (QoS 1, v3.1.1 clean
 * session 0; QoS 2, v5 session expiry 1 h) and two subscribers (v3.1.1 clean session 0; v5 session
 * expiry 1 h) on `s/#` at QoS 2. The mqtt.js clients live across the whole run and reconnect to
 * the restarted server on the same port with the same client ids, keeping their own session
 * state (outgoing store, incoming QoS 2 ids) as a real device would; they never resubscribe, so a
 * lost server session shows as Session Present 0 and missing messages.
 *
 * Acknowledged = PUBACK (QoS 1) or PUBREC with a reason code < 0x80 (QoS 2; the server owns the
 * message from then on [MQTT-4.3.3], PUBCOMP follows). Delivered = mqtt.js 'message' (QoS 1 at
 * PUBLISH, QoS 2 at PUBREL: method B of [MQTT-4.3.3], the receiver side of exactly once).
 */
import mqtt, { type MqttClient } from 'mqtt';

const WINDOW = 16;

interface Sub {
  name: string;
  client: MqttClient;
  /** Deliveries per `q<qos>:<n>`. */
  got: Map<string, number>;
  /** PUBLISH packets the server resent with DUP=1. */
  dupFlags: number;
  /** QoS 2 packet ids received (PUBREC sent by mqtt.js) and not yet released by a PUBREL. */
  pendingRel: Set<number>;
  /** A PUBLISH for such an id without DUP=1 [MQTT-3.3.1-1]. */
  resendWithoutDup: number;
  /** Connections after the first answered with Session Present 0. */
  lostSessions: number;
  connects: number;
}

export interface SessionFigures {
  /** Acknowledged publishes (QoS 1, QoS 2). */
  acked1: number;
  acked2: number;
  /** Deliveries counted over both subscribers. */
  delivered: number;
  /** Acknowledged messages a subscriber never received (at the final check). */
  missing: number;
  /** Extra QoS 1 deliveries (allowed: at least once) and extra QoS 2 deliveries. */
  dup1: number;
  dup2: number;
  /** Of dup2: extra deliveries of QoS 2 messages the publisher had a PUBREC for before a kill (a violation). */
  dup2Acked: number;
  /** A QoS 2 PUBLISH for a packet id the subscriber still held unreleased, without DUP=1 (the server forgot that id). */
  idReuse: number;
  /** PUBLISH packets resent with DUP=1 (protocol level; mqtt.js folds QoS 2 ones before PUBREL). */
  dupFlags: number;
}

export class SessionLoad {
  private readonly subs: Sub[] = [];
  private pub1!: MqttClient;
  private pub2!: MqttClient;
  private readonly acked = { 1: new Set<number>(), 2: new Set<number>() };
  private readonly sent = { 1: new Set<number>(), 2: new Set<number>() };
  private readonly inflight = { 1: 0, 2: 0 };
  /** QoS 2 messages acknowledged (PUBREC) before some kill. */
  private readonly ackedAtKill = new Set<number>();
  private seq = 0;
  /** VIGIL_CRASH_DEBUG: per subscriber and packet id, the last PUBLISH / PUBREL packets received. */
  readonly trace: Map<string, string[]> | null = process.env.VIGIL_CRASH_DEBUG ? new Map() : null;
  /** When each message was sent (ms since the epoch): a report can place a missing one among the kills. */
  readonly sentAt = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  /** `ports`: one server, or a cluster's nodes (each client starts on another one and moves on when it fails). */
  constructor(private readonly ports: number | readonly number[]) {}

  private clients = 0;

  private connect(clientId: string, v5: boolean): MqttClient {
    const list = typeof this.ports === 'number' ? [this.ports] : this.ports;
    const first = this.clients++ % list.length;
    const servers = list.map((_, i) => ({ host: '127.0.0.1', port: list[(first + i) % list.length]! }));
    const c = mqtt.connect({
      host: '127.0.0.1',
      port: servers[0]!.port,
      ...(servers.length > 1 ? { servers } : {}),
      clientId,
      clean: false,
      protocolVersion: v5 ? 5 : 4,
      ...(v5 ? { properties: { sessionExpiryInterval: 3600 } } : {}),
      reconnectPeriod: 100,
      connectTimeout: 5_000,
      resubscribe: false,
    });
    c.on('error', () => undefined);
    if (process.env.VIGIL_CRASH_DEBUG) c.on('connect', (ack) => console.error('cluster-crash:', clientId, 'connected to', (c.options as { port?: number }).port, 'sp', ack.sessionPresent, Date.now()));
    return c;
  }

  /** Connect everybody to the first server and subscribe (once: the session keeps it). */
  async start(): Promise<void> {
    for (const [name, v5] of [
      ['crash-sub-v3', false],
      ['crash-sub-v5', true],
    ] as const) {
      const client = this.connect(name, v5);
      const sub: Sub = { name, client, got: new Map(), dupFlags: 0, pendingRel: new Set(), resendWithoutDup: 0, lostSessions: 0, connects: 0 };
      client.on('connect', (ack) => {
        if (sub.connects++ > 0 && !ack.sessionPresent) sub.lostSessions++;
      });
      client.on('packetreceive', (p) => {
        if (this.trace && (p.cmd === 'publish' || p.cmd === 'pubrel') && p.messageId !== undefined) {
          const ev = `${Date.now()} ${p.cmd}${p.cmd === 'publish' ? ` ${p.topic}=${String(p.payload)} q${p.qos} dup${p.dup ? 1 : 0}` : ''}`;
          const k = `${name}#${p.messageId}`;
          this.trace.set(k, [...(this.trace.get(k) ?? []).slice(-6), ev]);
        }
        if (p.cmd === 'publish' && p.dup) sub.dupFlags++;
        if (p.cmd === 'publish' && p.qos === 2 && p.messageId !== undefined) {
          if (sub.pendingRel.has(p.messageId) && !p.dup) sub.resendWithoutDup++;
          sub.pendingRel.add(p.messageId);
        }
        if (p.cmd === 'pubrel' && p.messageId !== undefined) sub.pendingRel.delete(p.messageId);
      });
      client.on('connect', () => {
        if (this.trace) for (const k of this.trace.keys()) if (k.startsWith(`${name}#`)) this.trace.get(k)!.push(`${Date.now()} connect`);
      });
      client.on('message', (topic, payload) => {
        const key = `${topic === 's/q1' ? 'q1' : 'q2'}:${payload.toString()}`;
        sub.got.set(key, (sub.got.get(key) ?? 0) + 1);
      });
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${name}: no CONNACK within 10 s`)), 10_000);
        client.once('connect', () => {
          clearTimeout(t);
          resolve();
        });
      });
      await client.subscribeAsync('s/#', { qos: 2 });
      this.subs.push(sub);
    }
    this.pub1 = this.connect('crash-pub-q1', false);
    this.pub2 = this.connect('crash-pub-q2', true);
    // QoS 2 acknowledged at PUBREC: match the PUBREC's packet id to the PUBLISH sent under it.
    const byId = new Map<number, number>();
    this.pub2.on('packetsend', (p) => {
      if (p.cmd === 'publish' && p.messageId !== undefined) byId.set(p.messageId, Number(p.payload.toString()));
    });
    this.pub2.on('packetreceive', (p) => {
      if (p.cmd !== 'pubrec' || p.messageId === undefined || (p.reasonCode ?? 0) >= 0x80) return;
      const n = byId.get(p.messageId);
      if (n !== undefined) this.acked[2].add(n);
    });
    this.timer = setInterval(() => this.pump(), 5);
  }

  private pump(): void {
    if (this.stopped) return;
    for (const qos of [1, 2] as const) {
      const client = qos === 1 ? this.pub1 : this.pub2;
      while (client.connected && this.inflight[qos] < WINDOW) {
        const n = ++this.seq;
        this.sent[qos].add(n);
        this.sentAt.set(n, Date.now());
        this.inflight[qos]++;
        // mqtt.js keeps unacknowledged QoS 1/2 publishes and resends them after a reconnect.
        client.publish(`s/q${qos}`, String(n), { qos }, (err) => {
          this.inflight[qos]--;
          if (!err) this.acked[qos].add(n);
        });
      }
    }
  }

  /** Call just before a SIGKILL. */
  markKill(): void {
    for (const n of this.acked[2]) this.ackedAtKill.add(n);
  }

  /** Acknowledged messages that a subscriber has not received yet. */
  missing(): string[] {
    const out: string[] = [];
    for (const sub of this.subs)
      for (const qos of [1, 2] as const) for (const n of this.acked[qos]) if (!sub.got.has(`q${qos}:${n}`)) out.push(`${sub.name} q${qos}:${n}`);
    return out;
  }

  /**
   * Wait until every message acknowledged so far is received by every subscriber, or `ms` ran out,
   * or (`stallMs`) nothing new was received for that long (a backlog still draining keeps it waiting).
   */
  async settle(ms: number, stallMs = ms): Promise<string[]> {
    const want = { 1: [...this.acked[1]], 2: [...this.acked[2]] };
    const end = Date.now() + ms;
    const missing = () =>
      this.subs.flatMap((sub) => ([1, 2] as const).flatMap((q) => want[q].filter((n) => !sub.got.has(`q${q}:${n}`)).map((n) => `${sub.name} q${q}:${n}`)));
    const received = () => this.subs.reduce((n, sub) => n + sub.got.size, 0);
    let seen = received();
    let progressAt = Date.now();
    let left = missing();
    while (left.length > 0 && Date.now() < end && Date.now() - progressAt < stallMs) {
      await new Promise((r) => setTimeout(r, 200));
      const now = received();
      if (now !== seen) [seen, progressAt] = [now, Date.now()];
      left = missing();
    }
    return left;
  }

  /** Violations: lost sessions, deliveries of messages never sent (QoS 2 duplicates: qos2Duplicates()). */
  problems(): string[] {
    const out: string[] = [];
    for (const sub of this.subs) {
      if (sub.lostSessions > 0) out.push(`${sub.name}: Session Present 0 on ${sub.lostSessions} reconnect(s)`);
      for (const key of sub.got.keys()) {
        const [q, n] = key.split(':') as [string, string];
        if (!this.sent[q === 'q1' ? 1 : 2].has(Number(n))) out.push(`${sub.name}: ${key} delivered but never sent`);
      }
    }
    return out;
  }

  /**
   * QoS 2 messages PUBRECed before a kill and delivered more than once: an exactly-once violation.
   * Known cause (docs/security.md): the server sends PUBREL before the await_pubcomp phase is durable.
   */
  qos2Duplicates(): string[] {
    const out: string[] = [];
    for (const sub of this.subs)
      for (const [key, count] of sub.got)
        if (key.startsWith('q2') && count > 1 && this.ackedAtKill.has(Number(key.slice(3)))) out.push(`${sub.name}: QoS 2 message ${key.slice(3)}, PUBRECed before a kill, delivered ${count} times`);
    return out;
  }

  figures(): SessionFigures {
    let delivered = 0;
    let dup1 = 0;
    let dup2 = 0;
    let dup2Acked = 0;
    let dupFlags = 0;
    let idReuse = 0;
    for (const sub of this.subs) {
      dupFlags += sub.dupFlags;
      idReuse += sub.resendWithoutDup;
      for (const [key, count] of sub.got) {
        delivered += count;
        if (key.startsWith('q1')) dup1 += count - 1;
        else dup2 += count - 1;
        if (key.startsWith('q2') && this.ackedAtKill.has(Number(key.slice(3)))) dup2Acked += count - 1;
      }
    }
    const missing = this.missing().length;
    return { acked1: this.acked[1].size, acked2: this.acked[2].size, delivered, missing, dup1, dup2, dup2Acked, idReuse, dupFlags };
  }

  /** Stop publishing (the clients stay connected so the last deliveries can arrive). */
  stopPublishing(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** Stop publishing and wait (up to `ms`) until the publishers have nothing unacknowledged. */
  async drain(ms: number): Promise<void> {
    this.stopPublishing();
    const end = Date.now() + ms;
    while ((this.inflight[1] > 0 || this.inflight[2] > 0) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  }

  close(): void {
    this.stopPublishing();
    for (const c of [this.pub1, this.pub2, ...this.subs.map((s) => s.client)]) c?.end(true);
  }
}
