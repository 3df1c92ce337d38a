/**
 * Test doubles of the broker's seams (src/mqtt/seams.ts) that answer by promise where the
 * interfaces allow it, as a cluster's Redis round trip would: a claim, a retained lookup, a will
 * record. They wrap the single-node parts, so the same contracts hold; a Gate holds the answers
 * back until the test lets them through.
 */
import type { Claim, ClientLimits, ClientRegistry, Holder } from '../../src/mqtt/client-registry.js';
import type { Message } from '../../src/mqtt/message.js';
import type { RetainedStore } from '../../src/mqtt/retained.js';
import { localSeams, type SeamFactory } from '../../src/mqtt/seams.js';
import type { DisconnectReason } from '../../src/liveness/types.js';
import type { WillOwner, WillScheduler } from '../../src/mqtt/wills.js';
import type { Store } from '../../src/store/types.js';
import type { Clock } from '../../src/time/clock.js';
import type { Scheduler } from '../../src/time/scheduler.js';

/** Answers wait here until `open()` (or pass at once while it is open). */
export class Gate {
  private waiting: (() => void)[] = [];
  constructor(private isOpen = true) {}
  /** A promise of `answer()`, made when the gate lets it through. */
  pass<T>(answer: () => T): Promise<Awaited<T>> {
    const through = this.isOpen ? Promise.resolve() : new Promise<void>((resolve) => this.waiting.push(resolve));
    return through.then(answer) as Promise<Awaited<T>>;
  }
  get held(): number {
    return this.waiting.length;
  }
  close(): void {
    this.isOpen = false;
  }
  open(): void {
    this.isOpen = true;
    const w = this.waiting;
    this.waiting = [];
    for (const resolve of w) resolve();
  }
}

export class PromisedRegistry<C extends Holder> implements ClientRegistry<C> {
  constructor(
    private readonly inner: ClientRegistry<C>,
    private readonly gate = new Gate(),
  ) {}
  get local(): ReadonlyMap<string, C> {
    return this.inner.local;
  }
  claim(clientId: string, holder: C, limits: ClientLimits): Promise<Claim<C>> {
    return this.gate.pass(() => this.inner.claim(clientId, holder, limits));
  }
  release(clientId: string, holder: C): void {
    this.inner.release(clientId, holder);
  }
}

export class PromisedRetained implements RetainedStore {
  constructor(
    private readonly inner: RetainedStore,
    private readonly gate = new Gate(),
  ) {}
  get size(): number {
    return this.inner.size;
  }
  put(msg: Message): void {
    this.inner.put(msg);
  }
  matching(filter: string, nowMs: number): Promise<readonly Message[]> {
    return this.gate.pass(() => this.inner.matching(filter, nowMs));
  }
}

export class PromisedWills implements WillScheduler {
  constructor(
    private readonly inner: WillScheduler,
    private readonly gate = new Gate(),
  ) {}
  get pending(): number {
    return this.inner.pending;
  }
  opened(client: WillOwner): Promise<void> {
    return this.gate.pass(() => this.inner.opened(client));
  }
  closed(client: WillOwner, reason: DisconnectReason, due: boolean): void {
    this.inner.closed(client, reason, due);
  }
  shutdown(): void {
    this.inner.shutdown();
  }
}

/** The single-node seams with every answer that may be a promise made one, held by `gate`. */
export function promisedSeams(deps: { store: Store; clock: Clock; scheduler: Scheduler }, gate: Gate): SeamFactory {
  const local = localSeams(deps);
  return (ctx) => {
    const s = local(ctx);
    return { clients: new PromisedRegistry(s.clients, gate), router: s.router, retained: new PromisedRetained(s.retained, gate), wills: new PromisedWills(s.wills, gate) };
  };
}
