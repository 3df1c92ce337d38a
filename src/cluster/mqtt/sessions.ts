/**
 * MQTT sessions in cluster mode: the same session core and service as on one node (emqttd's rules:
 * window, queue, expiry, resume with redelivery), holding in memory only the sessions of clients
 * connected to this node, with persistent ones written through to Redis (session-writer.ts).
 *
 *   CONNECT   claim (COMMIT `cl`, with the client registry's answer): clean start deletes the
 *             stored session; otherwise the session moves here under a new generation and its
 *             stored state (subscriptions, inflight, queue, awaiting PUBREL) is restored into the
 *             manager before the broker opens it, so the core resumes it as it would a session
 *             restored from SQLite (Session Present 1, inflight resent with DUP, the queue drained)
 *   deliver   QoS 1/2 for a persistent session arrives through its queue stream in Redis: the
 *             publishing node appended it in its batch and this node gets a notice (its inbox, or
 *             the batch answer when it published it itself); the router's direct path skips it
 *   close     the session goes offline in Redis (deadline set) and leaves this node's memory:
 *             whichever node the client comes back to claims it from Redis
 *
 * Notices that arrive while this node's claim of that session is still on its way are held and
 * applied once the claim's state is in. A clean session (expiry 0) lives with its connection, in
 * memory, as on one node: it is not moved to another node.
 */
import type { Logger } from 'pino';
import type { Config } from '../../config/types.js';
import type { SessionKey } from '../../mqtt-session/manager.js';
import { sessionLimits } from '../../mqtt-session/limits.js';
import { SessionService, type SessionHandle } from '../../mqtt-session/session-service.js';
import type { OutboundPhase } from '../../mqtt-session/types.js';
import type { BrokerSessions, SessionHooks } from '../../mqtt/broker-sessions.js';
import type { SubOptions } from '../../mqtt/channel-session.js';
import type { BrokerClient } from '../../mqtt/connection-deps.js';
import type { Delivery } from '../../mqtt/message.js';
import { RC } from '../../mqtt/reason-codes.js';
import type { Clock } from '../../time/clock.js';
import type { Scheduler } from '../../time/scheduler.js';
import type { Batcher } from './batcher.js';
import { decodeDelivery, decodeSubOptions } from './codec.js';
import { sessionKey } from './keys.js';
import { ClusterSessionWriter, heldSession } from './session-writer.js';

export interface ClusterSessionsDeps {
  config: Config;
  clock: Clock;
  scheduler: Scheduler;
  logger: Logger;
  batcher: Batcher;
  hooks: SessionHooks;
  /** A restored subscription goes into the host's router (which adds this node's route). */
  subscribe(host: string, clientId: string, filter: string, opts: SubOptions): void;
  /** The connection holding a client id on this node. */
  holder(host: string, clientId: string): BrokerClient | undefined;
}

type Handle = SessionHandle<Delivery, SubOptions>;
type Notice = { d: Delivery; ref: string };
const str = (b: unknown): string => (b === undefined || b === null || b === false ? '' : String(b));

export class ClusterSessions implements BrokerSessions {
  readonly service: SessionService<Delivery, SubOptions>;
  readonly writer: ClusterSessionWriter;
  /** Deliveries that came from a session's queue stream, with their entry id. */
  private readonly refs = new WeakMap<Delivery, string>();
  /** Claims on their way, by session key: notices that arrive meanwhile wait here. */
  private readonly claiming = new Map<string, { n: number; notices: Notice[] }>();

  constructor(private readonly d: ClusterSessionsDeps) {
    this.writer = new ClusterSessionWriter({
      batcher: d.batcher,
      isOnline: (key) => this.service.manager.get(key.host, key.clientId)?.online ?? false,
      refOf: (x) => this.refs.get(x),
      onStale: (key) => this.stale(key),
    });
    this.service = new SessionService<Delivery, SubOptions>({
      limitsOf: (host) => sessionLimits(d.config.hosts[host]!.mqtt),
      clock: d.clock,
      scheduler: d.scheduler,
      writer: this.writer,
      onDrop: () => d.hooks.onDrop(),
      flow: d.hooks.flow, // back-pressure of this node's publishers (src/mqtt/backpressure.ts)
      onDeleted: (key, filters, unacked) => {
        this.writer.held.delete(sessionKey(key.host, key.clientId));
        let shared = false;
        for (const f of filters) {
          d.hooks.removeSubscription(key.host, key.clientId, f);
          if (f.startsWith('$share/')) shared = true;
        }
        // A shared member's session ended: its unacknowledged deliveries go to another member (5.0 §4.8.2).
        if (shared) d.hooks.redeliver(key.host, key.clientId, unacked().filter((x) => x.share !== undefined));
      },
    });
  }

  get manager() {
    return this.service.manager;
  }

  open(...args: Parameters<BrokerSessions['open']>): ReturnType<BrokerSessions['open']> {
    return this.service.open(...args);
  }

  close(handle: Handle, generation: number, sessionExpiryS?: number): void {
    this.service.close(handle, generation, sessionExpiryS);
    this.evictIfOffline(handle.host, handle.clientId);
  }

  /** The router's direct way: a persistent session gets QoS 1/2 through its queue stream instead. */
  deliver(host: string, clientId: string, d: Delivery): boolean {
    const h = this.service.handle(host, clientId);
    if (!h) return false;
    if (!h.session.persistent) h.deliver(d);
    return true;
  }

  /** A message appended to a session's queue stream (entry `ref`) for a session held here. */
  deliverQueued(host: string, clientId: string, d: Delivery, ref: string): void {
    const sk = sessionKey(host, clientId);
    const h = this.service.handle(host, clientId);
    if (h && this.writer.held.has(sk)) {
      this.refs.set(d, ref);
      h.deliver(d);
      return;
    }
    this.claiming.get(sk)?.notices.push({ d, ref });
    // Otherwise the session left this node: the entry stays in its queue for the next claim.
  }

  whenDurable(cb: (err: Error | null) => void): void {
    this.d.batcher.whenDurable(cb);
  }

  figures(host: string, clientId: string) {
    return this.service.figures(host, clientId);
  }

  shutdown(): void {
    this.service.shutdown();
  }

  /**
   * CONNECT of `clientId` accepted here: claim its session in Redis and restore what is stored.
   * Resolves once the state is in the manager (the broker then opens the session).
   */
  claim(host: string, clientId: string, cleanStart: boolean, persistent: boolean): Promise<void> {
    const sk = sessionKey(host, clientId);
    const c = this.claiming.get(sk);
    if (c) c.n++;
    else this.claiming.set(sk, { n: 1, notices: [] });
    return new Promise((resolve, reject) => {
      this.d.batcher.push({ o: 'cl', k: sk, c: cleanStart ? 1 : 0, p: persistent ? 1 : 0 }, (r) => {
        const w = this.claiming.get(sk);
        if (w && --w.n === 0) this.claiming.delete(sk);
        if (!Array.isArray(r)) return reject(new Error('session claim failed (cluster node fenced)'));
        try {
          this.claimed(host, clientId, r);
        } catch (err) {
          return reject(err instanceof Error ? err : new Error(String(err)));
        }
        if (w) for (const n of w.notices.splice(0)) this.deliverQueued(host, clientId, n.d, n.ref);
        resolve();
      });
    });
  }

  /** The registry gave a claim back (the connection closed before its session opened). */
  released(host: string, clientId: string): void {
    const h = this.service.handle(host, clientId);
    if (!h || h.session.online) return;
    // Restored for a connection that is gone: offline in Redis again, then forgotten here.
    const x = h.expiryMs === null ? '' : String(h.expiryMs);
    const xa = h.expiryMs === null ? '' : String(this.d.clock.now() + h.expiryMs);
    const held = this.writer.held.get(sessionKey(host, clientId));
    if (held) this.d.batcher.sessionWrite(sessionKey(host, clientId), held.gen, ['sp', x, 0, xa]);
    this.service.evict(host, clientId);
  }

  private claimed(host: string, clientId: string, r: unknown[]): void {
    const sk = sessionKey(host, clientId);
    const gen = Number(r[0]);
    const local = this.service.handle(host, clientId);
    const held = this.writer.held.get(sk);
    // Held here already under the same generation (a takeover on this node): the manager resumes it.
    if (local?.session.online && held && gen !== 0 && gen === held.gen) return;
    // Anything else held here is not the session Redis has now (clean start, another node had it).
    if (local) this.service.evict(host, clientId);
    if (gen === 0) return; // nothing stored, nothing to store (a clean session)
    this.writer.held.set(sk, heldSession(gen));
    const state = r[2] as unknown[] | undefined;
    if (state) this.restore({ host, clientId }, state);
  }

  /** Stored state back into the manager (offline), as restore.ts does from SQLite. */
  private restore(key: SessionKey, state: unknown[]): void {
    const now = this.d.clock.now();
    const x = str(state[0]);
    const expiryMs = x === '' ? null : Number(x);
    const session = this.service.manager.restore(key, { expiryMs, expiresAt: expiryMs === null ? null : now + expiryMs }, now);
    const held = this.writer.held.get(sessionKey(key.host, key.clientId))!;
    const subs = state[2] as Buffer[];
    for (let i = 0; i + 1 < subs.length; i += 2) {
      const filter = String(subs[i]);
      const opts = decodeSubOptions(String(subs[i + 1]));
      session.restoreSubscription(filter, opts);
      this.d.subscribe(key.host, key.clientId, filter, opts);
    }
    const info = state[3] as Buffer[];
    const bodies = new Map<string, Buffer>();
    const inf = state[4] as Buffer[];
    for (let i = 0; i + 1 < inf.length; i += 2) bodies.set(String(inf[i]), inf[i + 1]!);
    const inflight: { id: number; order: number; phase: OutboundPhase; d: Delivery }[] = [];
    for (let i = 0; i + 1 < info.length; i += 2) {
      const body = bodies.get(String(info[i]));
      if (!body) continue;
      const [order, phase] = String(info[i + 1]).split('|') as [string, OutboundPhase];
      inflight.push({ id: Number(String(info[i])), order: Number(order), phase, d: decodeDelivery(body) });
    }
    inflight.sort((a, b) => a.order - b.order);
    for (const e of inflight) session.restoreInflight(e.id, e.phase, e.d);
    const rel = state[5] as Buffer[];
    const rels: [number, number][] = [];
    for (let i = 0; i + 1 < rel.length; i += 2) rels.push([Number(String(rel[i])), Number(String(rel[i + 1]))]);
    rels.sort((a, b) => a[1] - b[1] || a[0] - b[0]);
    for (const [id, at] of rels) session.restoreAwaitingRel(id, at);
    const queue = state[6] as [Buffer, Buffer[]][];
    let seq = 0;
    for (const [id, fields] of queue) {
      const body = fields[1];
      if (!body) continue;
      const d = decodeDelivery(body);
      const ref = String(id);
      this.refs.set(d, ref);
      held.refs.set(++seq, ref);
      session.restoreQueued(seq, d);
    }
  }

  /** A write for this session was refused: another node holds it now. Close it here. */
  private stale(key: SessionKey): void {
    const conn = this.d.holder(key.host, key.clientId);
    if (conn && conn.session && !conn.ended) conn.end('taken_over', conn.negotiated?.version === 5 ? RC.sessionTakenOver : null, false);
    this.evictIfOffline(key.host, key.clientId);
  }

  private evictIfOffline(host: string, clientId: string): void {
    const h = this.service.handle(host, clientId);
    if (h && !h.session.online) this.service.evict(host, clientId);
  }
}
