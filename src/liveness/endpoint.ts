/**
 * One tracked connection: the handle the protocol adapter holds, and the worker's heap entry.
 *
 * Kept small on purpose (one object per endpoint, a million of them): every number is an integer in
 * core time (see time-source.ts), the state is a small integer, and the public `ref` is built on
 * demand instead of stored. `touch()` is the hot path: one field write and one comparison; all
 * timer work happens later, when the worker's deadline fires (lazy re-arm).
 *
 * State encoding: ACTIVE..RESUMABLE; DEAD is a bit added when the handle is untracked or superseded,
 * so the last liveness state stays readable and every call on a dead handle is a no-op. In
 * RESUMABLE no probe is outstanding, so `sentAt` holds the resume deadline instead.
 */
import type { HeapEntry } from './deadline-heap.js';
import type {
  DisconnectReason,
  EndpointRef,
  LivenessAdapter,
  LivenessHandle,
  LivenessState,
  ProbeAnswer,
  ProbeNowResult,
  TrackOptions,
  Transport,
} from './types.js';

export const ACTIVE = 0;
export const PROBING = 1;
export const UNRESPONSIVE = 2;
export const PAUSED = 3;
export const RESUMABLE = 4;
export const DEAD = 8;

/** `ack` values besides a probe timeout in ms. */
export const ACK_EXPIRE = -2; // onIdle 'expire': the idle deadline itself is the timeout, no probe
export const ACK_HOST = -1; // the host's ping_ack_timeout

const STATE_NAMES: readonly LivenessState[] = ['active', 'probing', 'unresponsive', 'paused', 'resumable'];

export function stateName(st: number): LivenessState {
  return STATE_NAMES[st & 7] ?? 'active';
}

/** What an endpoint asks of its host's worker (worker.ts implements it). */
export interface EndpointOwner {
  readonly host: string;
  activityNow(): number;
  wake(ep: Endpoint): void;
  answered(ep: Endpoint, answer: ProbeAnswer): void;
  setOptions(ep: Endpoint, opts: TrackOptions): void;
  untrack(ep: Endpoint, reason: DisconnectReason): void;
  suspend(ep: Endpoint, ms: number): void;
  resume(ep: Endpoint): void;
  kill(ep: Endpoint, reason: DisconnectReason): void;
  probeNow(ep: Endpoint): Promise<ProbeNowResult>;
  nextDecision(ep: Endpoint): number | null;
  toMonotonic(t: number): number;
  toWall(t: number): number;
}

export class Endpoint implements LivenessHandle, HeapEntry {
  /** ACTIVE | PROBING | UNRESPONSIVE | PAUSED | RESUMABLE, plus DEAD once no longer live. */
  st = ACTIVE;
  /** Core time of the last inbound activity. */
  last: number;
  /** Arm number in the worker's deadline heap; negative when not armed (deadline-heap.ts). */
  armGen = -1;
  /** -1 = follow the host's ping_interval. */
  idleMs: number;
  /** Last round-trip time in ms, -1 = none yet. */
  rtt = -1;
  /** Core time the outstanding idle probe was sent, -1 = none; in RESUMABLE the resume deadline. */
  sentAt = -1;
  /** ACK_EXPIRE, ACK_HOST, or this endpoint's probe timeout in ms (one field for both: no per-endpoint cost). */
  ack: number;

  constructor(
    readonly owner: EndpointOwner,
    readonly transport: Transport,
    readonly id: string,
    readonly generation: number,
    readonly adapter: LivenessAdapter,
    opts: TrackOptions,
    now: number,
  ) {
    this.last = now;
    this.idleMs = opts.idleMs ?? -1;
    this.ack = ackOf(opts);
  }

  /** The MQTT keepalive rule: the idle deadline is the timeout itself. */
  get expire(): boolean {
    return this.ack === ACK_EXPIRE;
  }

  get ref(): EndpointRef {
    return { host: this.owner.host, transport: this.transport, id: this.id, generation: this.generation };
  }

  get live(): boolean {
    return this.st < DEAD;
  }

  get state(): LivenessState {
    return stateName(this.st);
  }

  get lastActivityMono(): number {
    return this.owner.toMonotonic(this.last);
  }

  get lastRttMs(): number | null {
    return this.rtt < 0 ? null : this.rtt;
  }

  lastActivityAt(): number {
    return this.owner.toWall(this.last);
  }

  nextDeadlineAt(): number | null {
    const t = this.owner.nextDecision(this);
    return t === null ? null : this.owner.toWall(t);
  }

  touch(): void {
    this.last = this.owner.activityNow();
    if (this.st !== ACTIVE) this.owner.wake(this);
  }

  answered(answer: ProbeAnswer): void {
    this.owner.answered(this, answer);
  }

  setOptions(opts: TrackOptions): void {
    this.owner.setOptions(this, opts);
  }

  untrack(reason: DisconnectReason): void {
    this.owner.untrack(this, reason);
  }

  suspend(ms: number): void {
    this.owner.suspend(this, ms);
  }

  resume(): void {
    this.owner.resume(this);
  }

  probeNow(): Promise<ProbeNowResult> {
    return this.owner.probeNow(this);
  }

  kill(reason: DisconnectReason): void {
    this.owner.kill(this, reason);
  }
}

/** The `ack` field for track options. */
export function ackOf(opts: TrackOptions): number {
  if (opts.onIdle === 'expire') return ACK_EXPIRE;
  return opts.ackMs !== undefined && opts.ackMs >= 0 ? opts.ackMs : ACK_HOST;
}
