/**
 * Listener list for liveness events. A listener that throws must not leave a worker half-way
 * through a batch of deadlines, so the error is rethrown from a microtask: loud, but after the
 * core's state is consistent again.
 */
import type { LivenessEvent, LivenessListener } from './types.js';

export function reportLater(err: unknown): void {
  queueMicrotask(() => {
    throw err;
  });
}

export class EventHub {
  /** Copy-on-write, so a listener may unsubscribe while an event is being delivered. */
  private listeners: readonly LivenessListener[] = [];

  /** False when nobody listens: hot paths then skip building the event. */
  get listening(): boolean {
    return this.listeners.length > 0;
  }

  subscribe(listener: LivenessListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  emit(event: LivenessEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        reportLater(err);
      }
    }
  }
}
