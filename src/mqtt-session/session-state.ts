/**
 * The pure state of one MQTT session (MQTT 5.0 §4.1; emqttd_session, EMQX emqx_session_mem),
 * outliving its connections. Every method takes `nowMs` (wall clock) and returns effects as data
 * (types.ts); nothing here reads a clock, arms a timer, writes a socket or the store.
 *
 *   link:  offline --attach--> online --detach--> offline      (the manager deletes expired ones)
 *
 *   outbound QoS 1:  deliver -> inflight[await_puback] --PUBACK--> gone, drain the queue
 *   outbound QoS 2:  deliver -> inflight[await_pubrec] --PUBREC--> PUBREL, inflight[await_pubcomp]
 *                    --PUBCOMP--> gone, drain the queue (a v5 PUBREC >= 0x80 ends it [MQTT-4.4.0-2])
 *   inbound QoS 2:   PUBLISH -> awaitingRel[id] --PUBREL--> gone (PUBCOMP by the channel)
 *
 * Invariants:
 *   - inflight.size <= window = min(max_inflight, v5 Receive Maximum) for new sends [MQTT-3.3.4-9];
 *     a resumed session may hold more (window shrank): nothing new is sent until it falls below.
 *   - while the queue is non-empty and the link is online, the window is full (drain after every
 *     free slot), so QoS 1/2 messages leave in arrival order (priorities aside).
 *   - packet ids are unique among inflight entries (packet-ids.ts).
 *   - on attach: inflight is resent in its original order with DUP=1 and the same ids, PUBREL is
 *     resent for await_pubcomp [MQTT-4.4.0-1], then the queue drains through the window.
 *   - v5: nothing is resent inside a live connection [MQTT-4.4.0-1]; v3: timed resend only when
 *     retry_interval > 0, the interval doubling per resend (emqttd's unack_timeout 4, 8, 16 s),
 *     never giving up (dropping an unacknowledged QoS 1/2 message would break its promise).
 *   - a clean (non-persistent) session emits no store writes.
 */
import { sessionFigures } from './figures.js';
import { MQueue, queueOptionsOf, type QueueEntry } from './mqueue.js';
import { EMPTY_MAP, EMPTY_QUEUE, Flow, NO_DROPS, OFFLINE } from './session-flow.js';
import { nextPacketId } from './packet-ids.js';
import type {
  AttachOptions,
  Deliverable,
  DropReason,
  InflightEntry,
  Link,
  OutboundPhase,
  ProtocolVersion,
  Qos2Verdict,
  Result,
  SessionEffect,
  SessionFigures,
  SessionLimits,
  SessionTimer,
  SessionWrite,
} from './types.js';

const PUBREC_UNKNOWN = 0x92; // v5 Packet Identifier not found

export class MqttSession<M extends Deliverable, S = unknown> {
  // Memory: a clean session with nothing in flight is a handful of fields (80 bytes). The QoS 1/2
  // state is a Flow (session-flow.ts) made on first use; until then the getters hand out shared
  // empty views (read-only: every change goes through a method of this class).
  private flow: Flow<M> | null = null;
  /** 0 while offline, else the protocol level of the attached connection. */
  private version: 0 | ProtocolVersion = 0;
  /** Send window of the attached connection (min of max_inflight and v5 Receive Maximum). */
  private window = 0;
  private fx: SessionEffect<M>[] | null = null;
  private subsMap: Map<string, S> | null = null;
  constructor(
    private limits: SessionLimits,
    /** Outlives the connection: its changes are written to the store. */
    public persistent: boolean,
  ) {}

  /** The link to a connection (a fresh object per read). */
  get link(): Link {
    return this.version === 0 ? OFFLINE : { state: 'online', version: this.version, window: this.window };
  }

  /** Whether a connection holds the session (link.state === 'online', without building the link). */
  get online(): boolean {
    return this.version !== 0;
  }

  get subscriptions(): ReadonlyMap<string, S> {
    return this.subsMap ?? (EMPTY_MAP as ReadonlyMap<string, S>);
  }

  /** Outbound QoS 1/2 messages awaiting their ack, by packet id, in first-send order. */
  get inflight(): ReadonlyMap<number, InflightEntry<M>> {
    return this.flow?.inflight ?? (EMPTY_MAP as ReadonlyMap<number, InflightEntry<M>>);
  }

  /** Inbound QoS 2 packet id -> when the PUBLISH arrived (wall ms); insertion = arrival order. */
  get awaitingRel(): ReadonlyMap<number, number> {
    return this.flow?.rel ?? (EMPTY_MAP as ReadonlyMap<number, number>);
  }

  /** The message queue (a shared empty one until the first message is queued). */
  get queue(): Pick<MQueue<M>, 'length' | 'entries'> {
    return this.flow?.queue ?? EMPTY_QUEUE;
  }

  get drops(): Readonly<Record<DropReason, number>> {
    return this.flow?.drops ?? NO_DROPS;
  }

  /** New limits (host config reload): the queue takes them at once, the window at the next attach. */
  configure(limits: SessionLimits): void {
    if (limits === this.limits) return;
    this.limits = limits;
    this.flow?.queue?.configure(queueOptionsOf(limits));
  }

  // Connection ----------------------------------------------------------------------------------

  /** A connection takes the session (new, resumed or taken over): resend, then drain. */
  attach(opts: AttachOptions, nowMs: number): SessionEffect<M>[] {
    this.version = opts.version;
    this.window = Math.max(1, Math.min(this.limits.maxInflight, opts.receiveMaximum ?? 65_535));
    this.cancel('retry');
    if (this.flow?.rel) this.expireAwaitingRel(nowMs);
    const inflight = this.flow?.inflight;
    if (inflight) {
      for (const e of [...inflight.values()]) {
        if (e.phase === 'await_pubcomp') this.emit({ type: 'pubrel', id: e.id, reasonCode: 0 });
        else if (expired(e.msg, nowMs)) {
          this.removeInflight(e.id);
          this.drop('expired', e.msg);
          continue;
        } else this.emit({ type: 'publish', id: e.id, msg: e.msg, dup: true });
        this.scheduleRetry(e, nowMs);
      }
    }
    this.drain(nowMs);
    return this.flush();
  }

  /** The connection is gone. Timers stop; await_rel deadlines are checked again at attach. */
  detach(): SessionEffect<M>[] {
    this.version = 0;
    this.window = 0;
    this.cancel('retry');
    this.cancel('await_rel');
    const inflight = this.flow?.inflight;
    if (inflight) for (const e of inflight.values()) e.retryAt = 0;
    return this.flush();
  }

  // Outbound ------------------------------------------------------------------------------------

  /** A message routed to this session: send it, queue it, or drop it. */
  deliver(msg: M, nowMs: number): SessionEffect<M>[] {
    if (expired(msg, nowMs)) this.drop('expired', msg);
    else if (this.version === 0) this.enqueue(msg);
    else if (msg.qos === 0) this.emit({ type: 'publish', id: 0, msg, dup: false });
    else if ((this.flow?.queue?.length ?? 0) > 0 || !this.trySend(msg, nowMs)) this.enqueue(msg);
    return this.flush();
  }

  /** PUBACK for an outbound QoS 1 message. Unknown ids are ignored (a late ack after a resend). */
  puback(id: number, nowMs: number): SessionEffect<M>[] {
    if (this.flow?.inflight?.get(id)?.phase === 'await_puback') this.complete(id, nowMs);
    return this.flush();
  }

  /** PUBREC: answer PUBREL and await PUBCOMP; a v5 PUBREC >= 0x80 ends the flow [MQTT-4.4.0-2]. */
  pubrec(id: number, reasonCode: number, nowMs: number): SessionEffect<M>[] {
    const e = this.flow?.inflight?.get(id);
    if (!e || e.phase === 'await_puback') {
      this.emit({ type: 'pubrel', id, reasonCode: this.version === 5 ? PUBREC_UNKNOWN : 0 });
    } else if (reasonCode >= 0x80) {
      if (e.phase === 'await_pubrec') this.complete(id, nowMs);
    } else {
      if (e.phase === 'await_pubrec') {
        e.phase = 'await_pubcomp';
        this.write({ kind: 'inflight_phase', id, phase: 'await_pubcomp' });
      }
      this.emit({ type: 'pubrel', id, reasonCode: 0 });
      this.scheduleRetry(e, nowMs);
    }
    return this.flush();
  }

  /** PUBCOMP ends an outbound QoS 2 flow. */
  pubcomp(id: number, nowMs: number): SessionEffect<M>[] {
    if (this.flow?.inflight?.get(id)?.phase === 'await_pubcomp') this.complete(id, nowMs);
    return this.flush();
  }

  // Inbound QoS 2 -------------------------------------------------------------------------------

  /**
   * An inbound QoS 2 PUBLISH. `accepted`: route it and PUBREC; `duplicate`: PUBREC again, do not
   * route [MQTT-4.3.3-9]; `refused`: over max_awaiting_rel, v5 PUBREC 0x97 (the channel's code), v3 dropped (counted).
   */
  receiveQos2(id: number, nowMs: number): Result<M, Qos2Verdict> {
    let verdict: Qos2Verdict;
    const flow = this.f();
    const rel = (flow.rel ??= new Map());
    if (rel.has(id)) verdict = 'duplicate';
    else if (this.limits.maxAwaitingRel > 0 && rel.size >= this.limits.maxAwaitingRel) {
      this.drop('awaiting_rel_full', null);
      verdict = 'refused';
    } else {
      rel.set(id, nowMs);
      this.write({ kind: 'rel_put', id, atMs: nowMs });
      if (flow.relTimerAt === null) this.arm('await_rel', nowMs + this.limits.awaitRelTimeoutMs, nowMs);
      verdict = 'accepted';
    }
    return { effects: this.flush(), verdict };
  }

  /** PUBREL from the client: `true` when the id was awaited (PUBCOMP 0x00, else v5 0x92). */
  pubrel(id: number): Result<M, boolean> {
    const rel = this.flow?.rel;
    const known = rel?.delete(id) ?? false;
    if (known) {
      this.write({ kind: 'rel_del', id });
      if (rel!.size === 0) this.cancel('await_rel');
    }
    return { effects: this.flush(), verdict: known };
  }

  // Timers --------------------------------------------------------------------------------------

  /** A timer armed by an `arm` effect fired. */
  timeout(timer: SessionTimer, nowMs: number): SessionEffect<M>[] {
    this.flow?.disarm(timer);
    if (timer === 'await_rel') this.expireAwaitingRel(nowMs);
    else this.retry(nowMs);
    return this.flush();
  }

  // Subscriptions -------------------------------------------------------------------------------

  /** Add or replace a subscription [MQTT-3.8.4-3]; `existed` drives v5 Retain Handling 1. */
  subscribe(filter: string, opts: S): Result<M, { existed: boolean }> {
    const subs = (this.subsMap ??= new Map());
    const existed = subs.has(filter);
    subs.set(filter, opts);
    this.write({ kind: 'sub_put', filter, opts });
    return { effects: this.flush(), verdict: { existed } };
  }

  unsubscribe(filter: string): Result<M, boolean> {
    const had = this.subsMap?.delete(filter) ?? false;
    if (had) this.write({ kind: 'sub_del', filter });
    return { effects: this.flush(), verdict: had };
  }

  // Start-up: put back what the store held (no effects; attach resends) -------------------------

  restoreInflight(id: number, phase: OutboundPhase, msg: M): void {
    const flow = this.f();
    (flow.inflight ??= new Map()).set(id, { id, phase, msg, retryAt: 0, retryDelayMs: 0 });
    if (id >= flow.cursor) flow.cursor = id === 65_535 ? 1 : id + 1;
  }

  restoreQueued(seq: number, msg: M): void {
    this.ensureQueue().restore(seq, msg);
  }

  restoreAwaitingRel(id: number, atMs: number): void {
    (this.f().rel ??= new Map()).set(id, atMs);
  }

  restoreSubscription(filter: string, opts: S): void {
    (this.subsMap ??= new Map()).set(filter, opts);
  }

  figures(): Omit<SessionFigures, 'expiresAt'> {
    return sessionFigures(this);
  }

  // Internals -----------------------------------------------------------------------------------

  private f(): Flow<M> {
    return (this.flow ??= new Flow<M>());
  }

  private emit(e: SessionEffect<M>): void {
    (this.fx ??= []).push(e);
  }

  private flush(): SessionEffect<M>[] {
    const out = this.fx;
    this.fx = null;
    return out ?? [];
  }

  private write(w: SessionWrite<M>): void {
    if (this.persistent) this.emit({ type: 'store', write: w });
  }

  private drop(reason: DropReason, msg: M | null): void {
    (this.f().drops ??= { ...NO_DROPS })[reason]++;
    this.emit({ type: 'dropped', reason, msg });
  }

  private ensureQueue(): MQueue<M> {
    return (this.f().queue ??= new MQueue<M>(queueOptionsOf(this.limits)));
  }

  private enqueue(msg: M): void {
    const r = this.ensureQueue().in(msg);
    if (r.queued === null) return this.drop(r.refused, msg);
    if (r.evicted) this.dequeued(r.evicted, 'queue_full');
    this.write({ kind: 'queue_put', seq: r.queued.seq, msg });
  }

  private dequeued(e: QueueEntry<M>, dropped: DropReason | null): void {
    this.write({ kind: 'queue_del', seq: e.seq });
    if (dropped) this.drop(dropped, e.msg);
  }

  /** Send a QoS 1/2 message into the window; false when the window or the id space is full. */
  private trySend(msg: M, nowMs: number): boolean {
    const flow = this.f();
    const inflight = (flow.inflight ??= new Map());
    if (this.version === 0 || inflight.size >= this.window) return false;
    const { id, cursor } = nextPacketId(flow.cursor, (i) => inflight.has(i));
    if (id === 0) return false;
    flow.cursor = cursor;
    const e: InflightEntry<M> = { id, phase: msg.qos === 1 ? 'await_puback' : 'await_pubrec', msg, retryAt: 0, retryDelayMs: 0 };
    inflight.set(id, e);
    this.write({ kind: 'inflight_put', id, phase: e.phase, msg });
    this.emit({ type: 'publish', id, msg, dup: false });
    this.scheduleRetry(e, nowMs);
    return true;
  }

  /** Move queued messages into the window, in queue order. */
  private drain(nowMs: number): void {
    const queue = this.flow?.queue;
    if (this.version === 0 || !queue) return;
    while ((this.flow!.inflight?.size ?? 0) < this.window) {
      const e = queue.out();
      if (!e) break;
      this.dequeued(e, null);
      if (expired(e.msg, nowMs)) this.drop('expired', e.msg);
      else if (e.msg.qos === 0) this.emit({ type: 'publish', id: 0, msg: e.msg, dup: false });
      else if (!this.trySend(e.msg, nowMs)) {
        // Only when all 65535 ids are taken (a window that large): back in the queue, at its end.
        this.enqueue(e.msg);
        break;
      }
    }
  }

  private complete(id: number, nowMs: number): void {
    this.removeInflight(id);
    this.drain(nowMs);
  }

  private removeInflight(id: number): void {
    const inflight = this.flow!.inflight!;
    inflight.delete(id);
    this.write({ kind: 'inflight_del', id });
    if (inflight.size === 0) this.cancel('retry');
  }

  /** Forget inbound QoS 2 ids older than await_rel_timeout; re-arm for the next oldest. */
  private expireAwaitingRel(nowMs: number): void {
    const rel = this.flow?.rel;
    if (!rel) return;
    const timeout = this.limits.awaitRelTimeoutMs;
    for (const [id, at] of rel) {
      if (at + timeout > nowMs) {
        if (this.version !== 0) this.arm('await_rel', at + timeout, nowMs);
        return;
      }
      rel.delete(id);
      this.write({ kind: 'rel_del', id });
      this.drop('await_rel_timeout', null);
    }
  }

  private retryEnabled(): boolean {
    return this.limits.retryIntervalMs > 0 && this.version !== 0 && this.version !== 5;
  }

  /** Start (or restart) the v3 resend clock of an entry after it was sent. */
  private scheduleRetry(e: InflightEntry<M>, nowMs: number): void {
    if (!this.retryEnabled()) return;
    const at = this.f().startRetry(e, this.limits.retryIntervalMs, nowMs);
    if (at !== null) this.arm('retry', at, nowMs);
  }

  /** v3 timed resend: every due entry again with DUP=1 (or PUBREL), its interval doubled. */
  private retry(nowMs: number): void {
    if (!this.retryEnabled() || !this.flow) return;
    const next = this.flow.resendDue(nowMs, (this.fx ??= []));
    if (next !== null) this.arm('retry', next, nowMs);
  }

  private arm(timer: SessionTimer, atMs: number, nowMs: number): void {
    this.f().armed(timer, atMs);
    this.emit({ type: 'arm', timer, delayMs: Math.max(0, atMs - nowMs) });
  }

  private cancel(timer: SessionTimer): void {
    if (this.flow?.disarm(timer)) this.emit({ type: 'cancel', timer });
  }
}

function expired(m: Deliverable, nowMs: number): boolean {
  return m.msg.expiresAt !== null && nowMs >= m.msg.expiresAt;
}
