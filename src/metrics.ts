/**
 * Metrics: one prom-client Registry per app (no global default registry, so tests can build many
 * apps). Parts ask for a counter/gauge/histogram by name; asking twice returns the same one.
 * Names follow Prometheus conventions: vigil_<what>_<unit>_total.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  counter<L extends string>(name: string, help: string, labelNames?: readonly L[]): Counter<L>;
  /** `collect`, when given, runs at every scrape to set the gauge (a figure read, not kept up to date). */
  gauge<L extends string>(name: string, help: string, labelNames?: readonly L[], collect?: (g: Gauge<L>) => void): Gauge<L>;
  histogram<L extends string>(name: string, help: string, buckets: number[], labelNames?: readonly L[]): Histogram<L>;
  /**
   * A counter for hot paths (one per packet or stanza): `inc()` adds to a plain number and the
   * scrape hands the difference to prom-client, so the per-event cost is one field write instead
   * of prom-client's label hashing.
   */
  fastCounter(name: string, help: string): FastCounter;
}

/** See Metrics.fastCounter. `value` is the running total. */
export interface FastCounter {
  value: number;
  inc(by?: number): void;
}

class PlainCounter implements FastCounter {
  value = 0;
  inc(by = 1): void {
    this.value += by;
  }
}

export function createMetrics(opts: { processMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'vigil_', eventLoopMonitoringPrecision: 10 });
  const made = new Map<string, unknown>();
  function getOr<T>(name: string, make: () => T): T {
    let m = made.get(name) as T | undefined;
    if (!m) made.set(name, (m = make()));
    return m;
  }
  return {
    registry,
    counter: (name, help, labelNames = []) =>
      getOr(name, () => new Counter({ name, help, labelNames: [...labelNames], registers: [registry] })),
    gauge: <L extends string>(name: string, help: string, labelNames: readonly L[] = [], collect?: (g: Gauge<L>) => void) =>
      getOr(name, () => {
        const g: Gauge<L> = new Gauge<L>({ name, help, labelNames: [...labelNames], registers: [registry], ...(collect ? { collect: () => collect(g) } : {}) });
        return g;
      }),
    histogram: (name, help, buckets, labelNames = []) =>
      getOr(name, () => new Histogram({ name, help, buckets, labelNames: [...labelNames], registers: [registry] })),
    fastCounter: (name, help) =>
      getOr(name, () => {
        const plain = new PlainCounter();
        let reported = 0;
        new Counter({
          name,
          help,
          registers: [registry],
          collect() {
            this.inc(plain.value - reported);
            reported = plain.value;
          },
        });
        return plain;
      }),
  };
}
