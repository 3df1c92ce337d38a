/**
 * Round-trip times of one time slice, as counts in log-spaced buckets (each 20% wider than the
 * one before, from 10 us to 2 minutes): constant memory and an O(1) add whatever the probe rate,
 * percentiles within ~10% of the true value, which is what a chart of p50/p90/p99 needs.
 */
const MIN_MS = 0.01;
const GROWTH = 1.2;
const BUCKETS = 90; // MIN_MS * GROWTH^90 ~ 130 s
const LOG_GROWTH = Math.log(GROWTH);

export class RttSketch {
  private readonly counts = new Uint32Array(BUCKETS);
  private total = 0;

  add(rttMs: number): void {
    const i = rttMs <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log(rttMs / MIN_MS) / LOG_GROWTH));
    this.counts[i]!++;
    this.total++;
  }

  get size(): number {
    return this.total;
  }

  /** The q-quantile (0 < q <= 1) in ms, the geometric middle of its bucket; null when empty. */
  quantile(q: number): number | null {
    if (this.total === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return round(MIN_MS * GROWTH ** (i + 0.5));
    }
    return null;
  }

  clear(): void {
    this.counts.fill(0);
    this.total = 0;
  }
}

/** Three significant digits: the sketch is no more precise than that. */
const round = (ms: number) => Number(ms.toPrecision(3));
