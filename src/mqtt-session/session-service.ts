/**
 * The session service: the thin, effectful shell around the pure manager and sessions, for the
 * MQTT broker to call. It reads the clock once per call (wall clock, Clock.now()), carries out the
 * effects (PUBLISH/PUBREL through the connection's sink, timers on the injected scheduler, store
 * writes through the batching writer, drops to a counter) and keeps nothing else.
 *
 *   broker.open    -> service.open(req, sink)       -> handle (Session Present, generation)
 *   channel acks   -> handle.puback/pubrec/pubcomp  -> sink.publish for what the window frees
 *   inbound QoS 2  -> handle.receiveQos2 / pubrel   -> verdicts for PUBREC / PUBCOMP codes
 *   routing        -> service.deliver(host, id, m)  -> sink, queue (offline too) or drop
 *   broker.closed  -> service.close(handle, ...)    -> offline with a deadline, or deleted
 *   acks to send   -> service.whenDurable(cb)       -> after the batch holding the writes commits
 */
import type { Clock } from '../time/clock.js';
import type { Scheduler, TimerHandle } from '../time/scheduler.js';
import type { DurableWriter } from './durable.js';
import { SessionManager, type ManagedSession, type ManagerEffect, type OpenRequest, type SessionKey } from './manager.js';
import type { MqttSession } from './session-state.js';
import { SessionTimers } from './timers.js';
import type { Deliverable, DropReason, Qos2Verdict, SessionEffect, SessionFigures, SessionLimits, SessionTimer } from './types.js';

/** Where an attached session's packets go (the connection). */
export interface SessionSink<M> {
  publish(id: number, msg: M, dup: boolean): void;
  pubrel(id: number, reasonCode: number): void;
}

export interface SessionServiceDeps<M> {
  limitsOf(host: string): SessionLimits;
  clock: Pick<Clock, 'now'>;
  scheduler: Scheduler;
  /** Durable writes of persistent sessions; null = nothing is stored (tests, memory-only). */
  writer: DurableWriter<M> | null;
  onDrop?(key: SessionKey, reason: DropReason, msg: M | null): void;
  /**
   * A session was deleted (clean close, expiry, discard): remove its filters from the trie.
   * `unacked()` lists the messages it held that the client never got or never acknowledged
   * (queued, and inflight short of PUBREC), for shared subscriptions to hand to another member.
   */
  onDeleted?(key: SessionKey, filters: string[], unacked: () => M[]): void;
  /** A message was delivered to a session, or an ack freed its window (back-pressure, src/mqtt/backpressure.ts). */
  flow?: FlowObserver;
}

/** A session's queue as back-pressure sees it. */
export interface QueueView {
  readonly host: string;
  /** Attached to a connection. */
  readonly online: boolean;
  /** Messages queued behind the window. */
  readonly queued: number;
}

export interface FlowObserver {
  delivered(s: QueueView): void;
  acked(s: QueueView): void;
}

type HeldSends<M> = { sends: SessionEffect<M>[]; ready: boolean; failed: boolean };

/**
 * The service's object per session. It is also the manager's entry (ManagedSession), so a session
 * costs one object and one map entry here, not a handle beside an entry in two maps.
 */
export class SessionHandle<M extends Deliverable, S> implements ManagedSession<M, S> {
  // ManagedSession: the manager's bookkeeping.
  expiryMs: number | null = null;
  expiresAt: number | null = null;
  generation = 0;
  heapIndex = -1;
  readonly host: string;
  readonly clientId: string;
  /** The key object, made when first asked for (effects, store writes): a clean session rarely is. */
  private keyObj: SessionKey | null = null;
  sink: SessionSink<M> | null = null;
  /** Made on the first timer effect (a clean session without QoS 2 or v3 retry never arms one). */
  private timerSet: SessionTimers | null = null;
  /** Sends waiting for a durable write, oldest first; null while none ever waited. */
  private held: HeldSends<M>[] | null = null;

  constructor(
    private readonly svc: SessionService<M, S>,
    key: SessionKey,
    readonly session: MqttSession<M, S>,
  ) {
    this.host = key.host;
    this.clientId = key.clientId;
  }

  get key(): SessionKey {
    return (this.keyObj ??= { host: this.host, clientId: this.clientId });
  }

  get timers(): SessionTimers {
    return (this.timerSet ??= new SessionTimers(this.svc.scheduler, (t) => this.fire(t)));
  }

  get online(): boolean {
    return this.sink !== null;
  }

  get queued(): number {
    return this.session.queue.length;
  }

  /** Stop this session's timers (if it ever had any). */
  cancelTimers(): void {
    this.timerSet?.cancelAll();
  }

  puback(id: number): void {
    this.run(this.session.puback(id, this.svc.now()));
    this.svc.deps.flow?.acked(this);
  }

  pubrec(id: number, reasonCode = 0): void {
    this.run(this.session.pubrec(id, reasonCode, this.svc.now()));
    this.svc.deps.flow?.acked(this);
  }

  pubcomp(id: number): void {
    this.run(this.session.pubcomp(id, this.svc.now()));
    this.svc.deps.flow?.acked(this);
  }

  receiveQos2(id: number): Qos2Verdict {
    const r = this.session.receiveQos2(id, this.svc.now());
    this.run(r.effects);
    return r.verdict;
  }

  pubrel(id: number): boolean {
    const r = this.session.pubrel(id);
    this.run(r.effects);
    return r.verdict;
  }

  subscribe(filter: string, opts: S): boolean {
    const r = this.session.subscribe(filter, opts);
    this.run(r.effects);
    return r.verdict.existed;
  }

  unsubscribe(filter: string): boolean {
    const r = this.session.unsubscribe(filter);
    this.run(r.effects);
    return r.verdict;
  }

  deliver(msg: M): void {
    this.run(this.session.deliver(msg, this.svc.now()));
    this.svc.deps.flow?.delivered(this);
  }

  /**
   * Carry out session effects. A PUBLISH or PUBREL whose batch also writes the store goes out only
   * once that write is durable: otherwise a kill between the send and the commit leaves the store
   * one step behind the client (a PUBCOMPed QoS 2 message resent as new, or a packet id given to
   * another message while the client still holds it) [MQTT-4.3.3], [MQTT-4.4.0-1]. Later sends
   * wait behind earlier held ones so the order on the wire is the order of the effects.
   */
  run(effects: readonly SessionEffect<M>[]): void {
    if (effects.length === 0) return;
    const writer = this.svc.writer;
    const holds = writer !== null && effects.some((e) => e.type === 'store');
    const waiting = holds || (this.held !== null && this.held.length > 0);
    const sends: SessionEffect<M>[] = [];
    for (const e of effects) {
      switch (e.type) {
        case 'publish':
        case 'pubrel':
          if (waiting) sends.push(e);
          else this.send(e);
          break;
        case 'arm':
        case 'cancel':
          this.timers.apply(e);
          break;
        case 'store':
          writer?.write(this.key, e.write);
          break;
        case 'dropped':
          this.svc.deps.onDrop?.(this.key, e.reason, e.msg);
          break;
      }
    }
    if (sends.length === 0 && !holds) return;
    const group: HeldSends<M> = { sends, ready: !holds, failed: false };
    (this.held ??= []).push(group);
    if (holds) {
      writer.whenDurable((err) => {
        group.ready = true;
        group.failed = err !== null; // the broker closes the connection; the session resends on resume
        this.flushHeld();
      });
    } else {
      this.flushHeld();
    }
  }

  private flushHeld(): void {
    const held = this.held;
    if (!held) return;
    while (held.length > 0 && held[0]!.ready) {
      const g = held.shift()!;
      if (!g.failed) for (const e of g.sends) this.send(e);
    }
  }

  private send(e: SessionEffect<M>): void {
    if (e.type === 'publish') this.sink?.publish(e.id, e.msg, e.dup);
    else if (e.type === 'pubrel') this.sink?.pubrel(e.id, e.reasonCode);
  }

  private fire(t: SessionTimer): void {
    this.run(this.session.timeout(t, this.svc.now()));
  }
}

export class SessionService<M extends Deliverable, S = unknown> {
  readonly manager: SessionManager<M, S, SessionHandle<M, S>>;
  readonly scheduler: Scheduler;
  readonly writer: DurableWriter<M> | null;
  private expiryTimer: TimerHandle | null = null;

  constructor(readonly deps: SessionServiceDeps<M>) {
    this.manager = new SessionManager<M, S, SessionHandle<M, S>>(deps.limitsOf, {
      create: (key, session) => new SessionHandle(this, key, session),
      removed: (h) => this.deleted(h),
    });
    this.scheduler = deps.scheduler;
    this.writer = deps.writer;
  }

  now(): number {
    return this.deps.clock.now();
  }

  /**
   * CONNECT accepted: resume or create the session, attach `sink`, resend and drain. Keep
   * `generation` with the connection and pass it to close(): after a takeover both connections
   * hold the same handle, and only the newer one may detach it.
   */
  open(
    req: OpenRequest,
    sink: SessionSink<M>,
    /** Called with Session Present before anything is resent: send CONNACK here [MQTT-3.2.2-2]. */
    beforeResend?: (present: boolean) => void,
  ): { handle: SessionHandle<M, S>; present: boolean; generation: number } {
    const r = this.manager.open(req, this.now()); // a discarded old session went through deleted()
    const handle = r.entry;
    handle.sink = sink;
    beforeResend?.(r.present);
    this.apply(r.effects);
    return { handle, present: r.present, generation: r.generation };
  }

  /** The connection that opened `generation` closed (a v5 DISCONNECT may change the expiry). */
  close(handle: SessionHandle<M, S>, generation: number, sessionExpiryS?: number): void {
    const { host, clientId } = handle;
    if (this.manager.entry(host, clientId) !== handle || !this.manager.isCurrent(host, clientId, generation)) return;
    handle.sink = null;
    this.apply(this.manager.close(host, clientId, this.now(), sessionExpiryS, generation));
  }

  /** A message routed to a client id of a host: online, offline (queued) or no session (ignored). */
  deliver(host: string, clientId: string, msg: M): boolean {
    const h = this.manager.entry(host, clientId);
    if (!h) return false;
    h.deliver(msg);
    return true;
  }

  handle(host: string, clientId: string): SessionHandle<M, S> | undefined {
    return this.manager.entry(host, clientId);
  }

  figures(host: string, clientId: string): SessionFigures | undefined {
    return this.manager.figures(host, clientId);
  }

  /** Release `cb` once every write so far is durable (at once without a writer). */
  whenDurable(cb: (err: Error | null) => void): void {
    if (this.writer) this.writer.whenDurable(cb);
    else cb(null);
  }

  /**
   * Forget an offline session here without deleting it from the store (a cluster keeps it in
   * Redis, where the next node that claims it finds it): timers stop, its filters leave the routers.
   */
  evict(host: string, clientId: string): void {
    this.apply(this.manager.evict(host, clientId));
  }

  /** Delete a session now (admin action); the caller closes any connection first. */
  discard(host: string, clientId: string): void {
    this.apply(this.manager.discard(host, clientId));
  }

  /** After restoreSessions() (whose sessions already have their handles): arm the expiry timer. */
  adoptRestored(effects: ManagerEffect<M>[]): void {
    this.apply(effects);
  }

  /** Stop every timer and commit pending writes (graceful shutdown). */
  shutdown(): void {
    this.expiryTimer?.cancel();
    this.expiryTimer = null;
    for (const h of this.manager.entries()) h.cancelTimers();
    this.writer?.flush();
  }

  private apply(effects: readonly ManagerEffect<M>[]): void {
    if (effects.length === 0) return;
    this.writer?.record(effects);
    for (const e of effects) {
      // A deleted session's effects (timer cancels) are moot: deleted() stopped its timers.
      if (e.type === 'session') {
        if (e.effect.type !== 'store') this.manager.entry(e.key.host, e.key.clientId)?.run([e.effect]);
      } else if (e.type === 'arm_expiry') this.armExpiry(e.atMs);
    }
  }

  /** The manager deleted `h`'s session (its `removed` hook, once per session). */
  private deleted(h: SessionHandle<M, S>): void {
    h.cancelTimers();
    h.sink = null;
    const s = h.session;
    const unacked = (): M[] => [
      ...[...s.inflight.values()].filter((e) => e.phase !== 'await_pubcomp').map((e) => e.msg),
      ...s.queue.entries().map((e) => e.msg),
    ];
    this.deps.onDeleted?.(h.key, [...s.subscriptions.keys()], unacked);
  }

  private armExpiry(atMs: number | null): void {
    this.expiryTimer?.cancel();
    this.expiryTimer = null;
    if (atMs === null) return;
    this.expiryTimer = this.scheduler.setTimer(Math.max(0, atMs - this.now()), () => {
      this.expiryTimer = null;
      const r = this.manager.expire(this.now());
      this.apply(r.effects);
    });
  }
}
