/**
 * A LivenessRegistry test double for presence/REST tests: events are emitted by the test, handles
 * are plain records. It implements the interface only as far as those tests read it.
 */
import type {
  DisconnectReason,
  EndpointKey,
  EndpointRef,
  LivenessEvent,
  LivenessHandle,
  LivenessHostConfig,
  LivenessListener,
  LivenessRegistry,
  LivenessState,
  ProbeNowResult,
  Transport,
  Via,
} from '../../src/liveness/types.js';

export class FakeHandle implements LivenessHandle {
  live = true;
  state: LivenessState = 'active';
  lastActivityMono = 0;
  lastRttMs: number | null = null;
  activityAt = 0;
  deadlineAt: number | null = null;
  killedWith: DisconnectReason | null = null;
  via: Via | null = 'tcp';
  constructor(readonly ref: EndpointRef) {}
  lastActivityAt(): number {
    return this.activityAt;
  }
  nextDeadlineAt(): number | null {
    return this.deadlineAt;
  }
  touch(): void {}
  answered(): void {}
  setOptions(): void {}
  untrack(): void {
    this.live = false;
  }
  suspend(): void {}
  resume(): void {}
  probeNow(): Promise<ProbeNowResult> {
    return Promise.resolve({ kind: 'gone' });
  }
  kill(reason: DisconnectReason): void {
    this.killedWith = reason;
  }
}

const keyOf = (k: EndpointKey) => `${k.host}\u0000${k.transport}\u0000${k.id}`;

export class FakeLiveness implements LivenessRegistry {
  private listeners = new Set<LivenessListener>();
  private handles = new Map<string, FakeHandle>();
  private gen = 0;
  constructor(private now: () => number = () => 0) {}

  /** Simulate a connection coming online; returns its handle. */
  connect(host: string, transport: Transport, id: string): FakeHandle {
    const key = keyOf({ host, transport, id });
    const prev = this.handles.get(key);
    if (prev) prev.live = false;
    const h = new FakeHandle({ host, transport, id, generation: ++this.gen });
    this.handles.set(key, h);
    this.emit({ type: 'online', ref: h.ref, at: this.now(), takeover: prev !== undefined, meta: null });
    return h;
  }

  disconnect(h: FakeHandle, reason: DisconnectReason): void {
    if (!h.live) return;
    h.live = false;
    this.handles.delete(keyOf(h.ref));
    this.emit({ type: 'offline', ref: h.ref, at: this.now(), reason });
  }

  setState(h: FakeHandle, state: LivenessState): void {
    h.state = state;
    this.emit({ type: 'state', ref: h.ref, at: this.now(), state });
  }

  emit(e: LivenessEvent): void {
    for (const l of this.listeners) l(e);
  }

  track(): LivenessHandle {
    throw new Error('FakeLiveness.track: use connect()');
  }
  get(key: EndpointKey): LivenessHandle | undefined {
    return this.handles.get(keyOf(key));
  }
  *list(host: string, transport?: Transport): Iterable<LivenessHandle> {
    for (const h of this.handles.values()) {
      if (h.ref.host === host && (transport === undefined || h.ref.transport === transport)) yield h;
    }
  }
  size(): number {
    return this.handles.size;
  }
  hosts(): string[] {
    return [];
  }
  hostConfig(): LivenessHostConfig | undefined {
    return undefined;
  }
  setHostConfig(): LivenessHostConfig {
    throw new Error('FakeLiveness.setHostConfig: not supported');
  }
  subscribe(listener: LivenessListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  stop(): void {}
}
