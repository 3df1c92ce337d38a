/**
 * Per IP address bookkeeping of a protocol's listeners (the XMPP and the MQTT connection gate each have one), on injected time:
 * - connection rate (max_connection_rate_per_ip, connections per minute): one token bucket per
 *   address for the listener (the largest rate of all hosts, checked at accept) and one per host
 *   and address (checked at the stream header); a bucket holds a minute's worth of tokens;
 * - failed authentication delay (auth_failure_delay_ms): base x 2^(recent failures), at most 16 x
 *   the base; failures older than 10 minutes are forgotten.
 * Memory follows the recently active addresses: every SWEEP_EVERY uses, buckets that have refilled
 * (the same as no entry) and forgotten failures are dropped; and both maps are bounded: past
 * MAX_ENTRIES the stalest entries go (an attacker rotating addresses costs memory only up to that
 * bound). Churn through unique addresses found the unswept version growing (test/fuzz/churn.ts).
 */
import type { Clock } from '../time/clock.js';

const MINUTE_MS = 60_000;
const FORGET_FAILURES_MS = 10 * MINUTE_MS;
const MAX_ENTRIES = 100_000;
const SWEEP_EVERY = 4_096;

interface Bucket {
  tokens: number;
  at: number;
}

export interface IpLimits {
  /** Largest rate of all hosts (0 = unlimited): the listener's limit. */
  readonly acceptRate: number;
  /** Take one connection token for `ip` (host null: the listener's bucket). False: over the rate. */
  takeConnection(ip: string, host: string | null): boolean;
  /** Record a failed authentication from `ip`; returns the delay to apply to its answer (ms). */
  authFailure(ip: string, host: string | null): number;
  /** Entries held (buckets + failures), for tests. */
  size(): number;
}

export function createIpLimits(opts: { clock: Clock; rates: Record<string, number>; authDelays: Record<string, number> }): IpLimits {
  const rates = Object.values(opts.rates);
  const acceptRate = rates.length === 0 || rates.includes(0) ? 0 : Math.max(...rates);
  const buckets = new Map<string, Bucket>();
  const failures = new Map<string, { n: number; at: number }>();
  let uses = 0;

  const sweep = (now: number) => {
    for (const [k, b] of buckets) {
      const rate = opts.rates[k.slice(0, Math.max(0, k.indexOf('\u0000')))] ?? acceptRate;
      if (b.tokens + ((now - b.at) * rate) / MINUTE_MS >= rate) buckets.delete(k);
    }
    for (const [k, f] of failures) if (now - f.at >= FORGET_FAILURES_MS) failures.delete(k);
  };
  const used = (now: number) => {
    if (++uses % SWEEP_EVERY === 0) sweep(now);
  };

  /** Drop the oldest entries (Map keeps insertion order; entries are re-inserted when used). */
  const bound = <V>(m: Map<string, V>) => {
    if (m.size <= MAX_ENTRIES) return;
    for (const k of m.keys()) {
      m.delete(k);
      if (m.size <= MAX_ENTRIES * 0.9) break;
    }
  };

  return {
    acceptRate,
    takeConnection(ip, host) {
      const rate = host === null ? acceptRate : (opts.rates[host] ?? 0);
      if (rate <= 0) return true;
      const key = host === null ? ip : `${host}\u0000${ip}`;
      const now = opts.clock.monotonic();
      used(now);
      const b = buckets.get(key) ?? { tokens: rate, at: now };
      buckets.delete(key);
      b.tokens = Math.min(rate, b.tokens + ((now - b.at) * rate) / MINUTE_MS);
      b.at = now;
      const ok = b.tokens >= 1;
      if (ok) b.tokens -= 1;
      buckets.set(key, b);
      bound(buckets);
      return ok;
    },
    authFailure(ip, host) {
      const base = host === null ? 0 : (opts.authDelays[host] ?? 0);
      const now = opts.clock.monotonic();
      used(now);
      const f = failures.get(ip);
      const n = f && now - f.at < FORGET_FAILURES_MS ? f.n : 0;
      failures.delete(ip);
      failures.set(ip, { n: n + 1, at: now });
      bound(failures);
      return base * 2 ** Math.min(n, 4);
    },
    size: () => buckets.size + failures.size,
  };
}
