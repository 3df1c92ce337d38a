/**
 * Certificate reload on SIGHUP (Mosquitto 2.0's convention): every TLS listener (mqtts, mqtt_wss,
 * xmpps, https) and the XMPP STARTTLS contexts register a `reload` that re-reads their certificate,
 * key, CA and CRL files, builds the new context (which checks that key and certificate belong
 * together) and only then swaps it in (tls.Server#setSecureContext: open connections keep theirs,
 * new handshakes get the new one). A reload that fails leaves the old context in place, is logged
 * (`tls_reload_failed`, with the listener and OpenSSL's reason, never key material) and counted
 * (vigil_tls_reloads_total{listener, result}); it is tried once more after RETRY_MS, because
 * certbot and friends write the key and the certificate one after the other.
 * Ports and listener kinds are not reloaded (a restart changes them).
 */
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { Metrics } from '../metrics.js';
import type { Scheduler } from '../time/scheduler.js';

const RETRY_MS = 2_000;

export interface ReloadOutcome {
  listener: string;
  ok: boolean;
  error?: string;
}

export class TlsReloader {
  private readonly entries = new Map<string, () => void>();
  private readonly counter: Counter<'listener' | 'result'>;

  constructor(private readonly deps: { logger: Logger; metrics: Metrics; scheduler: Scheduler }) {
    this.counter = deps.metrics.counter('vigil_tls_reloads_total', 'Certificate reloads (SIGHUP) by listener and result (ok, failed: the old certificate stays)', ['listener', 'result'] as const);
  }

  /** `reload` re-reads the files and swaps the context in, or throws and changes nothing. */
  add(listener: string, reload: () => void): void {
    this.entries.set(listener, reload);
  }

  remove(listener: string): void {
    this.entries.delete(listener);
  }

  get listeners(): string[] {
    return [...this.entries.keys()];
  }

  /** Reload every registered listener now; the ones that fail are tried once more a little later. */
  reloadAll(): ReloadOutcome[] {
    const out = [...this.entries.keys()].map((l) => this.reloadOne(l));
    const failed = out.filter((o) => !o.ok).map((o) => o.listener);
    if (failed.length > 0) {
      this.deps.scheduler.setTimer(RETRY_MS, () => {
        for (const l of failed) if (this.entries.has(l)) this.reloadOne(l);
      });
    }
    return out;
  }

  private reloadOne(listener: string): ReloadOutcome {
    const reload = this.entries.get(listener)!;
    try {
      reload();
      this.counter.inc({ listener, result: 'ok' });
      this.deps.logger.info({ event: 'tls_reloaded', listener }, 'tls_reloaded');
      return { listener, ok: true };
    } catch (err) {
      const error = (err as Error).message;
      this.counter.inc({ listener, result: 'failed' });
      this.deps.logger.warn({ event: 'tls_reload_failed', listener, error }, 'tls_reload_failed: the previous certificate stays in use');
      return { listener, ok: false, error };
    }
  }
}
