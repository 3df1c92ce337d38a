/**
 * One liveness worker per host (ejabberd mod_ping's per-host gen_server, generalised to XMPP and MQTT).
 *
 * Timers: ONE scheduler timer per worker, set for the earliest armed deadline of a binary min-heap
 * (deadline-heap.ts). Activity never touches the heap: `touch()` stores the time, and when an ACTIVE
 * endpoint's idle deadline fires the worker compares it with the last activity and, if there was
 * activity since, re-arms for the remaining time (lazy re-arm). Deadlines are exact integer ms, so a
 * probe goes out at lastActivity + ping_interval and the timeout lands at + ping_ack_timeout.
 *
 * Transitions (types.ts draws the machine):
 *   ACTIVE  --idle, onIdle 'probe', send_pings--> PROBING (adapter.probe, ack deadline armed)
 *   ACTIVE  --idle, onIdle 'expire'-------------> UNRESPONSIVE, reason keepalive_timeout [MQTT-3.1.2-24]
 *   PROBING --ack deadline----------------------> UNRESPONSIVE, reason ping_timeout (XEP-0199 §4.1)
 *   UNRESPONSIVE: timeout_action kill -> `killed` + adapter.kill; none -> `ping_timeout`, connection kept
 *   any --'unsupported' answer------------------> PAUSED (service-unavailable: alive, no ping support)
 *   any --activity or other answer--------------> ACTIVE (XEP-0199 §6: any reply is proof of life)
 *   any live --suspend(ms)-----------------------> RESUMABLE, deadline now + ms (XEP-0198 §5: the
 *                                                 connection dropped, the session waits for a resume)
 *   RESUMABLE --resume()------------------------> ACTIVE (same generation, idle deadline re-armed)
 *   RESUMABLE --deadline------------------------> adapter.kill(resume_timeout), then untracked
 * UNRESPONSIVE and PAUSED hold no deadline until the next activity; RESUMABLE ignores activity and
 * answers (nothing can report them) and only leaves by resume, its deadline, kill or untrack.
 * A probe waits the endpoint's own ack timeout when it has one (TrackOptions.ackMs), else the host's.
 */
import type { Scheduler, TimerHandle } from '../time/scheduler.js';
import {
  ACTIVE,
  DEAD,
  Endpoint,
  PAUSED,
  PROBING,
  RESUMABLE,
  UNRESPONSIVE,
  ackOf,
  stateName,
  type EndpointOwner,
} from './endpoint.js';
import { DeadlineHeap } from './deadline-heap.js';
import { reportLater, type EventHub } from './event-hub.js';
import { ProbeNowWaiters } from './probe-now.js';
import type { TimeSource } from './time-source.js';
import type {
  DisconnectReason,
  EndpointKey,
  EndpointMeta,
  LivenessAdapter,
  LivenessHostConfig,
  ProbeAnswer,
  ProbeNowResult,
  TrackOptions,
  Transport,
} from './types.js';

export class HostWorker implements EndpointOwner {
  private readonly byId: Record<Transport, Map<string, Endpoint>> = { xmpp: new Map(), mqtt: new Map() };
  private readonly heap = new DeadlineHeap<Endpoint>();
  private readonly waiters: ProbeNowWaiters;
  private timer: TimerHandle | null = null;
  private timerAt = 0;
  private firing = false;
  private stopped = false;

  constructor(
    readonly host: string,
    public config: LivenessHostConfig,
    private readonly time: TimeSource,
    private readonly scheduler: Scheduler,
    private readonly hub: EventHub,
  ) {
    this.waiters = new ProbeNowWaiters(scheduler);
  }

  // ---- tracking ----------------------------------------------------------------------------

  track(key: EndpointKey, adapter: LivenessAdapter, opts: TrackOptions, generation: number, meta: EndpointMeta | null): Endpoint {
    const map = this.byId[key.transport];
    const old = map.get(key.id);
    if (old) this.detach(old); // takeover: silent, the successor's `online` says takeover
    const now = this.time.now();
    const ep = new Endpoint(this, key.transport, key.id, generation, adapter, opts, this.time.stamp());
    map.set(key.id, ep);
    this.armIdle(ep);
    this.sync(now);
    if (this.hub.listening) {
      this.hub.emit({ type: 'online', ref: ep.ref, at: this.time.wallNow(), takeover: old !== undefined, meta });
    }
    return ep;
  }

  get(transport: Transport, id: string): Endpoint | undefined {
    return this.byId[transport].get(id);
  }

  /** Endpoints in tracking order; one transport is its map's own iterator (no generator step per item). */
  list(transport?: Transport): Iterable<Endpoint> {
    return transport ? this.byId[transport].values() : this.merged();
  }

  /** Both maps are in tracking order; merge them by generation. */
  private *merged(): Generator<Endpoint> {
    const a = this.byId.xmpp.values();
    const b = this.byId.mqtt.values();
    let x = a.next();
    let y = b.next();
    while (!x.done || !y.done) {
      if (y.done || (!x.done && x.value.generation < y.value.generation)) {
        yield x.value as Endpoint;
        x = a.next();
      } else {
        yield y.value;
        y = b.next();
      }
    }
  }

  get size(): number {
    return this.byId.xmpp.size + this.byId.mqtt.size;
  }

  // ---- EndpointOwner: calls from handles -----------------------------------------------------

  activityNow(): number {
    return this.time.activity();
  }

  toMonotonic(t: number): number {
    return this.time.toMonotonic(t);
  }

  toWall(t: number): number {
    return this.time.toWall(t);
  }

  /** Activity on an endpoint that is not ACTIVE (touch already stored the time). */
  wake(ep: Endpoint): void {
    if (ep.st >= DEAD || ep.st === RESUMABLE) return;
    this.heap.remove(ep);
    this.setState(ep, ACTIVE);
    this.armIdle(ep);
    this.sync(this.time.now());
  }

  answered(ep: Endpoint, answer: ProbeAnswer): void {
    if (ep.st >= DEAD || ep.st === RESUMABLE) return;
    const now = this.time.now();
    ep.last = Math.max(ep.last, this.time.stamp());
    const sent = ep.sentAt >= 0 ? ep.sentAt : this.waiters.oldestSentAt(ep);
    ep.sentAt = -1;
    if (sent >= 0) {
      ep.rtt = Math.max(0, now - sent);
      if (this.hub.listening) {
        this.hub.emit({ type: 'probe_answered', ref: ep.ref, at: this.time.wallNow(), rttMs: ep.rtt, answer });
      }
    }
    this.heap.remove(ep);
    if (answer === 'unsupported') {
      this.setState(ep, PAUSED); // ejabberd: stop pinging until the next client stanza
    } else {
      this.setState(ep, ACTIVE);
      this.armIdle(ep);
    }
    this.sync(now);
    this.waiters.answer(ep, answer, now);
  }

  setOptions(ep: Endpoint, opts: TrackOptions): void {
    if (ep.st >= DEAD) return;
    ep.ack = ackOf(opts);
    ep.idleMs = opts.idleMs ?? -1;
    if (ep.st === RESUMABLE) return; // applies once resumed
    if (ep.st === PROBING && ep.expire) {
      this.heap.remove(ep);
      this.setState(ep, ACTIVE);
    }
    if (ep.st === ACTIVE) this.armIdle(ep);
    this.sync(this.time.now());
  }

  untrack(ep: Endpoint, reason: DisconnectReason): void {
    if (ep.st >= DEAD) return;
    this.detach(ep);
    this.sync(this.time.now());
    if (this.hub.listening) this.hub.emit({ type: 'offline', ref: ep.ref, at: this.time.wallNow(), reason });
  }

  suspend(ep: Endpoint, ms: number): void {
    if (ep.st >= DEAD) return;
    const now = this.time.now();
    this.heap.remove(ep);
    // The deadline is in the heap before the state event, whose listeners read it (resumable_until).
    ep.sentAt = now + Math.max(0, Math.ceil(ms));
    this.heap.push(ep, ep.sentAt);
    this.setState(ep, RESUMABLE);
    this.sync(now);
    this.waiters.gone(ep); // an out-of-band probe cannot be answered any more
  }

  resume(ep: Endpoint): void {
    if (ep.st !== RESUMABLE) return;
    this.heap.remove(ep);
    ep.sentAt = -1;
    ep.last = this.time.stamp(); // the resume is activity
    this.armIdle(ep);
    this.setState(ep, ACTIVE);
    this.sync(this.time.now());
  }

  kill(ep: Endpoint, reason: DisconnectReason): void {
    if (ep.st >= DEAD) return;
    if (this.hub.listening) this.hub.emit({ type: 'killed', ref: ep.ref, at: this.time.wallNow(), reason });
    this.adapterKill(ep, reason);
  }

  probeNow(ep: Endpoint): Promise<ProbeNowResult> {
    if (ep.st >= DEAD) return Promise.resolve({ kind: 'gone' });
    if (ep.st === RESUMABLE) return Promise.resolve({ kind: 'unprobeable', why: 'the session is resumable: no connection to probe (XEP-0198)' });
    const can = ep.adapter.canProbe?.(ep.ref) ?? true;
    if (typeof can === 'string') return Promise.resolve({ kind: 'unprobeable', why: can });
    const result = this.waiters.wait(ep, this.time.stamp(), this.ackMs(ep));
    this.emitProbeSent(ep);
    this.adapterProbe(ep);
    return result;
  }

  /** Core time of the next timer decision for `ep`, or null when none is pending. */
  nextDecision(ep: Endpoint): number | null {
    // For ACTIVE the heap key may be stale (lazy re-arm); the decision is at last + idle.
    if (!this.heap.has(ep)) return null;
    if (ep.st === RESUMABLE) return ep.sentAt;
    return ep.st === ACTIVE ? ep.last + this.idleOf(ep) : ep.sentAt + this.ackMs(ep);
  }

  // ---- host configuration ------------------------------------------------------------------

  /** New options: re-arm every live deadline against them; no endpoint is dropped. */
  reconfigure(config: LivenessHostConfig): void {
    this.config = config;
    for (const ep of this.list()) {
      if (ep.st === RESUMABLE) continue; // its deadline is the session's resume timeout, not a ping option
      if (ep.st === PROBING) {
        if (!ep.expire && !config.send_pings) {
          this.heap.remove(ep);
          this.setState(ep, ACTIVE);
        } else {
          this.heap.push(ep, ep.sentAt + this.ackMs(ep));
          continue;
        }
      }
      if (ep.st === ACTIVE) this.armIdle(ep);
    }
    this.sync(this.time.now());
    if (this.hub.listening) {
      this.hub.emit({ type: 'host_config', host: this.host, at: this.time.wallNow(), config });
    }
  }

  /** Cancel every timer (shutdown); handles stay queryable, out-of-band probes resolve `gone`. */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
    this.heap.clear();
    for (const ep of this.list()) this.waiters.gone(ep);
  }

  // ---- deadlines ---------------------------------------------------------------------------

  private readonly fire = (): void => {
    this.timer = null;
    const now = this.time.now();
    this.firing = true;
    try {
      while (this.heap.peekDeadline() <= now) this.due(this.heap.pop() as Endpoint, now);
    } finally {
      this.firing = false;
      this.sync(now);
    }
  };

  private due(ep: Endpoint, now: number): void {
    if (ep.st === PROBING) return this.timeout(ep, 'ping_timeout', now);
    if (ep.st === RESUMABLE) return this.resumeTimeout(ep);
    if (ep.st !== ACTIVE) return;
    const idle = this.idleOf(ep);
    if (idle <= 0) return;
    const at = ep.last + idle;
    if (at > now) return this.heap.push(ep, at); // activity since armed: lazy re-arm
    if (ep.expire) return this.timeout(ep, 'keepalive_timeout', now); // [MQTT-3.1.2-24]
    ep.sentAt = this.time.stamp();
    this.setState(ep, PROBING);
    this.heap.push(ep, ep.sentAt + this.ackMs(ep));
    this.emitProbeSent(ep);
    this.adapterProbe(ep);
  }

  /** The session was not resumed in time: the adapter ends it (and untracks); untracked here in any case. */
  private resumeTimeout(ep: Endpoint): void {
    this.adapterKill(ep, 'resume_timeout');
    this.untrack(ep, 'resume_timeout');
  }

  private timeout(ep: Endpoint, reason: 'ping_timeout' | 'keepalive_timeout', now: number): void {
    this.setState(ep, UNRESPONSIVE);
    if (this.config.timeout_action === 'kill') {
      this.kill(ep, reason);
    } else if (this.hub.listening) {
      this.hub.emit({ type: 'ping_timeout', ref: ep.ref, at: this.time.toWall(now), reason });
    }
  }

  /** Idle interval of `ep` in ms; 0 = never (keepalive 0, or probing with send_pings false). */
  private idleOf(ep: Endpoint): number {
    if (!ep.expire && !this.config.send_pings) return 0;
    return ep.idleMs >= 0 ? ep.idleMs : this.config.ping_interval * 1000;
  }

  /** How long a probe of `ep` waits: its own ack timeout, else the host's ping_ack_timeout. */
  private ackMs(ep: Endpoint): number {
    return ep.ack < 0 ? this.config.ping_ack_timeout * 1000 : ep.ack; // ACK_HOST (ACK_EXPIRE never probes)
  }

  /** Arm the idle deadline at last activity + interval (a past deadline fires on the next turn). */
  private armIdle(ep: Endpoint): void {
    const idle = this.stopped ? 0 : this.idleOf(ep);
    if (idle > 0) this.heap.push(ep, ep.last + idle);
    else this.heap.remove(ep);
  }

  /** Keep the one scheduler timer at or before the earliest deadline. */
  private sync(now: number): void {
    if (this.firing || this.stopped) return;
    const top = this.heap.peekDeadline();
    if (top === Infinity) {
      this.timer?.cancel();
      this.timer = null;
      return;
    }
    if (this.timer !== null && this.timerAt <= top) return; // fires early, re-syncs then
    this.timer?.cancel();
    this.timerAt = Math.max(top, now);
    this.timer = this.scheduler.setTimer(this.time.delayUntil(this.timerAt), this.fire);
  }

  private detach(ep: Endpoint): void {
    this.byId[ep.transport].delete(ep.id);
    this.heap.remove(ep);
    ep.st |= DEAD;
    this.waiters.gone(ep);
  }

  private setState(ep: Endpoint, st: number): void {
    if (ep.st === st) return;
    ep.st = st;
    if (this.hub.listening) {
      this.hub.emit({ type: 'state', ref: ep.ref, at: this.time.wallNow(), state: stateName(st) });
    }
  }

  private emitProbeSent(ep: Endpoint): void {
    if (this.hub.listening) this.hub.emit({ type: 'probe_sent', ref: ep.ref, at: this.time.wallNow() });
  }

  // An adapter that throws must not stop the worker half-way through its deadlines. (Two methods
  // rather than one taking a closure: no allocation per fire.)
  private adapterProbe(ep: Endpoint): void {
    try {
      ep.adapter.probe(ep.ref);
    } catch (err) {
      reportLater(err);
    }
  }

  private adapterKill(ep: Endpoint, reason: DisconnectReason): void {
    try {
      ep.adapter.kill(ep.ref, reason);
    } catch (err) {
      reportLater(err);
    }
  }
}
