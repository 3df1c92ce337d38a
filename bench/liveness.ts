/**
 * Liveness scenario: what one tracked endpoint costs at 1,000,000 endpoints, for
 *   (a) Vigil's core: one object per endpoint, one timer per host worker over a deadline heap,
 *       touch() = a field write, lazy re-arm when the deadline fires (src/liveness/);
 *   (b) naive: one setTimeout per endpoint, clearTimeout + setTimeout on every touch (mod_ping's way);
 *   (c) one setTimeout per endpoint, `timeout.refresh()` on every touch.
 *
 * Figures: heap bytes per endpoint (delta of heapUsed + external after gc, / N; the ids and the array holding the
 * handles exist before the baseline, as they belong to the connections); ns per touch (sequential
 * pass over all endpoints, warm JIT); ns per timer fired, measured as event-loop active time
 * (performance.eventLoopUtilization) from the end of arming until all N have fired, divided by N;
 * and for (a) the cost of a lazy re-arm (deadline fires after activity, entry pushed back), measured
 * synchronously on a ManualScheduler.
 *
 * Usage: npm run bench -- liveness [--n 1000000] [--fire-delay-ms 1000]
 */
import { availableParallelism, cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createLivenessRegistry } from '../src/liveness/registry.js';
import type { ActivityTime } from '../src/liveness/time-source.js';
import type { LivenessAdapter, LivenessHandle, LivenessHostConfig } from '../src/liveness/types.js';
import { systemClock } from '../src/time/clock.js';
import { ManualScheduler } from '../src/time/manual.js';
import { systemScheduler } from '../src/time/scheduler.js';

export const describe =
  'heap bytes, ns per touch and per timer fired at 1M endpoints: Vigil core vs setTimeout per touch vs timeout.refresh()';

const HOST = 'bench.example';
const TOUCH_ROUNDS = 5;

interface Row {
  approach: string;
  bytes: number | null;
  touchNs: number | null;
  fireNs: number | null;
  rearmNs: number | null;
}

function option(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

/** JS heap plus memory outside it (ArrayBuffer backing stores: the deadline heap's keys live there). */
function heapUsed(): number {
  globalThis.gc?.();
  globalThis.gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

function hostConfig(patch: Partial<LivenessHostConfig>): LivenessHostConfig {
  return {
    send_pings: true,
    ping_interval: 3_600,
    ping_ack_timeout: 32,
    timeout_action: 'none',
    mqtt_probe: 'keepalive',
    xmpp_probe: 'iq',
    ...patch,
  };
}

/**
 * Sequential touch passes: one warm-up, then TOUCH_ROUNDS timed; the median round's ns per touch
 * (the machine is shared, a median resists another process stealing the core for one round).
 */
function timeTouches(n: number, touch: (i: number) => void): number {
  for (let i = 0; i < n; i++) touch(i);
  const rounds: number[] = [];
  for (let r = 0; r < TOUCH_ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) touch(i);
    rounds.push(Number(process.hrtime.bigint() - t0) / n);
  }
  return rounds.sort((a, b) => a - b)[TOUCH_ROUNDS >> 1] as number;
}

/** Event-loop active ns per fired timer, from now until `done()`. */
async function timeFiring(n: number, done: () => boolean): Promise<number> {
  const elu0 = performance.eventLoopUtilization();
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 5));
  return (performance.eventLoopUtilization(elu0).active * 1e6) / n;
}

const noopAdapter: LivenessAdapter = { probe() {}, kill() {} };

/** Heap per endpoint while tracked, touch cost, and what is left per endpoint after untracking all. */
function vigilMemoryAndTouch(
  ids: string[],
  slots: unknown[],
  mode: ActivityTime,
): { bytes: number; touchNs: number; residual: number } {
  const before = heapUsed();
  const reg = createLivenessRegistry({
    clock: systemClock,
    scheduler: systemScheduler,
    hosts: { [HOST]: hostConfig({}) },
    activityTime: mode,
  });
  for (let i = 0; i < ids.length; i++) {
    slots[i] = reg.track({ host: HOST, transport: 'xmpp', id: ids[i] as string }, noopAdapter, { onIdle: 'probe' });
  }
  const bytes = (heapUsed() - before) / ids.length;
  const handles = slots as LivenessHandle[];
  const touchNs = timeTouches(ids.length, (i) => (handles[i] as LivenessHandle).touch());
  for (const h of handles) h.untrack('client_close');
  slots.fill(null);
  const residual = (heapUsed() - before) / ids.length; // the registry itself is still referenced
  reg.stop();
  return { bytes, touchNs, residual };
}

async function vigilFire(ids: string[], delayMs: number): Promise<number> {
  let killed = 0;
  const adapter: LivenessAdapter = {
    probe() {},
    kill() {
      killed++;
    },
  };
  const reg = createLivenessRegistry({
    clock: systemClock,
    scheduler: systemScheduler,
    hosts: { [HOST]: hostConfig({ timeout_action: 'kill' }) },
    activityTime: 'turn',
  });
  for (const id of ids) reg.track({ host: HOST, transport: 'mqtt', id }, adapter, { onIdle: 'expire', idleMs: delayMs });
  const ns = await timeFiring(ids.length, () => killed === ids.length);
  reg.stop();
  return ns;
}

/**
 * Lazy re-arm: every endpoint touched after arming, so every deadline that fires is pushed back.
 * Idle intervals are spread over 30 to 90 s (deterministic pseudo-random), so the re-armed deadlines
 * land all over the heap as they do when clients connect at random times; with equal deadlines
 * every push would go to the bottom and the figure would flatter the heap.
 */
function vigilRearm(ids: string[]): number {
  const scheduler = new ManualScheduler();
  const reg = createLivenessRegistry({
    clock: scheduler.clock,
    scheduler,
    hosts: { [HOST]: hostConfig({}) },
  });
  let seed = 1;
  const idle = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return 30_000 + Math.floor((seed / 2 ** 31) * 60_000);
  };
  const idles = ids.map(() => idle());
  const handles = ids.map((id, i) =>
    reg.track({ host: HOST, transport: 'mqtt', id }, noopAdapter, { onIdle: 'expire', idleMs: idles[i] as number }),
  );
  // Touch everyone just before the first deadline (30 s); then every first deadline up to 60 s
  // fires and is re-armed to touch + idle >= 60 s, outside the measured window: re-arms only.
  const touchAt = 29_999;
  scheduler.advance(touchAt);
  for (const h of handles) h.touch();
  const windowEnd = 2 * touchAt;
  const rearmed = idles.filter((ms) => ms <= windowEnd).length;
  const t0 = process.hrtime.bigint();
  scheduler.advance(windowEnd - touchAt);
  const ns = Number(process.hrtime.bigint() - t0) / rearmed;
  reg.stop();
  return ns;
}

interface Lateness {
  label: string;
  expectedMs: number;
  minMs: number;
  maxMs: number;
}

/**
 * Real-time precision on the system clock: XMPP with ping_interval 1 s + ping_ack_timeout 1 s (kill
 * expected at 2 s) and MQTT keepalive 2 s (close expected at 1.5 x 2 = 3 s), `count` endpoints each.
 */
async function precision(count: number): Promise<Lateness[]> {
  const trackedAt = new Map<string, number>();
  const elapsed: Record<'xmpp' | 'mqtt', number[]> = { xmpp: [], mqtt: [] };
  const adapter: LivenessAdapter = {
    probe() {},
    kill(ref) {
      elapsed[ref.transport].push(performance.now() - (trackedAt.get(ref.id) ?? NaN));
    },
  };
  const reg = createLivenessRegistry({
    clock: systemClock,
    scheduler: systemScheduler,
    hosts: { [HOST]: hostConfig({ ping_interval: 1, ping_ack_timeout: 1, timeout_action: 'kill' }) },
    activityTime: 'turn',
  });
  for (let i = 0; i < count; i++) {
    const x = `p${i}@${HOST}/r`;
    const m = `mqtt-${i}`;
    trackedAt.set(x, performance.now());
    reg.track({ host: HOST, transport: 'xmpp', id: x }, adapter, { onIdle: 'probe' });
    trackedAt.set(m, performance.now());
    reg.track({ host: HOST, transport: 'mqtt', id: m }, adapter, { onIdle: 'expire', idleMs: 3_000 });
  }
  while (elapsed.xmpp.length + elapsed.mqtt.length < 2 * count) await new Promise((r) => setTimeout(r, 20));
  reg.stop();
  const row = (label: string, expectedMs: number, xs: number[]): Lateness => ({
    label,
    expectedMs,
    minMs: Math.min(...xs),
    maxMs: Math.max(...xs),
  });
  return [
    row('XMPP kill, ping_interval 1 s + ping_ack_timeout 1 s', 2_000, elapsed.xmpp),
    row('MQTT close, keepalive 2 s (1.5 x)', 3_000, elapsed.mqtt),
  ];
}

/** (b) and (c): one Node timer per endpoint; the callback is created once per endpoint. */
class TimerEndpoint {
  timer: NodeJS.Timeout;
  fired = 0;
  constructor(
    readonly id: string,
    private readonly delayMs: number,
    private readonly onFire: () => void,
  ) {
    this.timer = setTimeout(this.fire, delayMs);
  }
  readonly fire = (): void => {
    this.fired++;
    this.onFire();
  };
  resetNaive(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(this.fire, this.delayMs);
  }
  resetRefresh(): void {
    this.timer.refresh();
  }
}

function timerMemoryAndTouch(ids: string[], slots: unknown[], refresh: boolean): { bytes: number; touchNs: number } {
  const before = heapUsed();
  for (let i = 0; i < ids.length; i++) slots[i] = new TimerEndpoint(ids[i] as string, 3_600_000, () => {});
  const bytes = (heapUsed() - before) / ids.length;
  const eps = slots as TimerEndpoint[];
  const touchNs = refresh
    ? timeTouches(ids.length, (i) => (eps[i] as TimerEndpoint).resetRefresh())
    : timeTouches(ids.length, (i) => (eps[i] as TimerEndpoint).resetNaive());
  for (const ep of eps) clearTimeout(ep.timer);
  slots.fill(null);
  return { bytes, touchNs };
}

async function timerFire(ids: string[], delayMs: number, refresh: boolean): Promise<number> {
  let fired = 0;
  const count = () => {
    fired++;
  };
  const eps = ids.map((id) => new TimerEndpoint(id, delayMs, count));
  if (refresh) for (const ep of eps) ep.resetRefresh(); // a refreshed timer, as in (c)'s steady state
  return timeFiring(ids.length, () => fired === ids.length);
}

/** null: same figure as the row above (firing does not depend on how touch reads the time); NaN: no such step. */
const fmt = (v: number | null, digits = 0): string =>
  v === null ? 'same' : Number.isNaN(v) ? 'n/a (in touch)' : v.toFixed(digits);

function printTable(rows: Row[], n: number): void {
  const naive = rows.find((r) => r.approach.startsWith('(b)'))?.touchNs ?? null;
  console.log(`| approach (N = ${n.toLocaleString('en-US')}) | heap bytes/endpoint | ns/touch | touch: naive / this | ns/timer fired | ns/lazy re-arm |`);
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const speedup = naive !== null && r.touchNs ? `${(naive / r.touchNs).toFixed(1)}x` : 'n/a';
    console.log(
      `| ${r.approach} | ${fmt(r.bytes)} | ${fmt(r.touchNs, 1)} | ${speedup} | ${fmt(r.fireNs)} | ${fmt(r.rearmNs)} |`,
    );
  }
}

export async function run(args: string[]): Promise<void> {
  const n = option(args, '--n', 1_000_000);
  const delayMs = option(args, '--fire-delay-ms', 1_000);
  if (typeof globalThis.gc !== 'function') console.log('note: no global.gc, heap figures are rough');
  const started = performance.now();
  const ids = Array.from({ length: n }, (_, i) => `user${i}@${HOST}/res-${i % 97}`);
  const slots: unknown[] = new Array<unknown>(n).fill(null);

  const turn = vigilMemoryAndTouch(ids, slots, 'turn');
  const exact = vigilMemoryAndTouch(ids, slots, 'exact');
  const vFire = await vigilFire(ids, delayMs);
  const vRearm = vigilRearm(ids);
  heapUsed();
  const naive = timerMemoryAndTouch(ids, slots, false);
  const nFire = await timerFire(ids, delayMs, false);
  heapUsed();
  const refresh = timerMemoryAndTouch(ids, slots, true);
  const rFire = await timerFire(ids, delayMs, true);
  heapUsed();
  const late = await precision(1_000);

  const rows: Row[] = [
    { approach: '(a) Vigil core, touch time cached per turn', ...turn, fireNs: vFire, rearmNs: vRearm },
    { approach: '(a) Vigil core, clock read on every touch', ...exact, fireNs: null, rearmNs: null },
    { approach: '(b) naive: clearTimeout + setTimeout per touch', ...naive, fireNs: nFire, rearmNs: NaN },
    { approach: '(c) timeout.refresh() per touch', ...refresh, fireNs: rFire, rearmNs: NaN },
  ];
  console.log(
    `date ${new Date().toISOString()} | node ${process.version} | nproc ${availableParallelism()} | ${cpus()[0]?.model ?? 'cpu?'}`,
  );
  printTable(rows, n);
  console.log('\n| real-time precision (1,000 endpoints each) | expected | earliest | latest |');
  console.log('|---|---:|---:|---:|');
  for (const l of late) {
    console.log(`| ${l.label} | ${l.expectedMs} ms | ${l.minMs.toFixed(1)} ms | ${l.maxMs.toFixed(1)} ms |`);
  }
  console.log(
    `\nafter untracking all ${n.toLocaleString('en-US')}: ${turn.residual.toFixed(1)} bytes/endpoint left (churn returns the memory)`,
  );
  const ok = (b: boolean) => (b ? 'met' : 'MISSED');
  console.log(
    `targets: <= 200 bytes/endpoint ${ok(turn.bytes <= 200)}; <= 50 ns/touch ${ok(turn.touchNs <= 50)}; ` +
      `>= 5x cheaper than naive ${ok(naive.touchNs / turn.touchNs >= 5)}; took ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
}
