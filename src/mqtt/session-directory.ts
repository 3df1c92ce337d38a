/**
 * Compatibility shim for callers of the issue 4 session seam (test/fuzz): sessions now live in
 * the session core's SessionService (broker.sessions). A MemorySessionDirectory passed to
 * createMqttService is bound to it and reports how many sessions it holds (leak checks).
 */
import type { SessionService } from '../mqtt-session/service.js';

export class MemorySessionDirectory {
  private service: Pick<SessionService<never, unknown>, 'manager'> | null = null;

  bind(service: Pick<SessionService<never, unknown>, 'manager'>): void {
    this.service = service;
  }

  /** Sessions held (connected or persistent). */
  get size(): number {
    return this.service?.manager.size ?? 0;
  }
}

export type SessionDirectory = MemorySessionDirectory;
