/**
 * `vigil serve --workers N` (issue 16): the way to use every core of one machine. The primary
 * process runs no server itself; it forks N workers (node:cluster), which share the listeners
 * (the primary accepts and hands connections round-robin) and run as N cluster nodes on the one
 * Redis of the `cluster` section: worker i is node `<node_id>-w<i>` with its own store in
 * `<data_dir>/w<i>`.
 *
 *   worker exits (crash, kill -9)  -> forked again under the same node id: it joins with a new
 *                                     epoch and sweeps its previous one at once (its endpoints go
 *                                     offline `node_down`); its clients reconnect to the others
 *   exits again within 5 s          -> the next restart waits longer (0.5 s doubling, max 30 s)
 *   SIGTERM / SIGINT to the primary -> `stop` to every worker (graceful), exit 0 when all are out;
 *   SIGHUP to the primary -> SIGHUP to every worker (TLS certificate reload);
 *                                     a second signal kills them (exit 1)
 *
 * Workers ignore SIGINT (a terminal's Ctrl-C reaches the whole process group: the primary decides)
 * and stop on SIGTERM or the primary's `stop` message.
 */
import cluster, { type Worker } from 'node:cluster';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load.js';

const QUICK_EXIT_MS = 5_000;
const MAX_DELAY_MS = 30_000;
const STOP_DEADLINE_MS = 20_000;

/** The message a worker sends once it serves (and the primary's stop message). */
export interface WorkerStarted {
  vigil: 'worker_started';
  worker: number;
  http: { host: string; port: number } | null;
}
export const STOP_MESSAGE = { vigil: 'stop' } as const;

/** Environment of worker `i`: its node id and data directory (config overrides, docs/config.md). */
export function workerEnv(loaded: LoadedConfig, i: number): Record<string, string> {
  const base = loaded.config.cluster?.node_id ?? hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 60);
  return { VIGIL_WORKER: String(i), VIGIL_CLUSTER__NODE_ID: `${base}-w${i}`, VIGIL_DATA_DIR: join(loaded.dataDir, `w${i}`) };
}

export interface PrimaryDeps {
  loaded: LoadedConfig;
  workers: number;
  logger: Logger;
  /** The first worker serving: its REST address (the shared port). */
  onServing(http: WorkerStarted['http']): void;
}

/** Run the primary until a signal; resolves with the exit code. */
export function runPrimary(d: PrimaryDeps): Promise<number> {
  const byWorker = new Map<Worker, { i: number; startedAt: number }>();
  const quick = new Map<number, number>();
  /** Workers that served once: one that dies before it ever served is a start failure, not a crash. */
  const served = new Set<number>();
  let stopping = false;
  let exitCode = 0;
  let serving = false;

  const fork = (i: number) => {
    const w = cluster.fork(workerEnv(d.loaded, i));
    byWorker.set(w, { i, startedAt: Date.now() });
    w.on('message', (m: Partial<WorkerStarted>) => {
      if (m?.vigil !== 'worker_started') return;
      served.add(i);
      d.logger.info({ event: 'worker_started', worker: i, pid: w.process.pid }, 'worker serving');
      if (!serving) {
        serving = true;
        d.onServing(m.http ?? null);
      }
    });
  };

  cluster.on('exit', (w, code, signal) => {
    const me = byWorker.get(w);
    byWorker.delete(w);
    if (!me) return;
    if (stopping) {
      if (byWorker.size === 0) done(exitCode);
      return;
    }
    if (!served.has(me.i)) {
      d.logger.fatal({ event: 'vigil_start_failed', worker: me.i, code, signal }, 'a worker could not start: stopping');
      stopping = true;
      for (const other of byWorker.keys()) other.send(STOP_MESSAGE);
      exitCode = 1;
      if (byWorker.size === 0) done(1);
      return;
    }
    const ranMs = Date.now() - me.startedAt;
    const n = ranMs < QUICK_EXIT_MS ? (quick.get(me.i) ?? 0) + 1 : 0;
    quick.set(me.i, n);
    const delayMs = n === 0 ? 0 : Math.min(MAX_DELAY_MS, 500 * 2 ** (n - 1));
    d.logger.warn({ event: 'worker_exited', worker: me.i, pid: w.process.pid, code, signal, restart_in_ms: delayMs }, 'worker exited, starting it again');
    setTimeout(() => {
      if (!stopping) fork(me.i);
    }, delayMs);
  });

  let done: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (done = resolve));
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      d.logger.error({ event: 'forced_exit' }, 'second signal: killing the workers');
      for (const w of byWorker.keys()) w.process.kill('SIGKILL');
      return done(1);
    }
    stopping = true;
    d.logger.info({ event: 'signal_received', signal, workers: byWorker.size }, 'stopping the workers');
    if (byWorker.size === 0) return done(0);
    for (const w of byWorker.keys()) w.send(STOP_MESSAGE);
    setTimeout(() => {
      for (const w of byWorker.keys()) w.process.kill('SIGKILL');
      done(1);
    }, STOP_DEADLINE_MS).unref();
  };
  // SIGHUP (certificate reload) goes on to every worker: each holds its own TLS contexts.
  const hup = () => {
    for (const w of byWorker.keys()) w.process.kill('SIGHUP');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', hup);
  for (let i = 1; i <= d.workers; i++) fork(i);
  return finished.finally(() => {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    process.off('SIGHUP', hup);
  });
}

/** In a worker: tell the primary we serve. */
export function reportStarted(http: WorkerStarted['http']): void {
  const msg: WorkerStarted = { vigil: 'worker_started', worker: Number(process.env.VIGIL_WORKER), http };
  process.send?.(msg);
  process.channel?.unref(); // the listeners keep the worker alive, not the channel to the primary
}

/** In a worker: resolves when the primary asks it to stop, or on SIGTERM (SIGINT is the primary's). */
export function workerStopRequest(): Promise<NodeJS.Signals> {
  process.on('SIGINT', () => undefined);
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.on('message', (m: { vigil?: string }) => {
      if (m?.vigil === STOP_MESSAGE.vigil) resolve('SIGTERM');
    });
  });
}

export const isWorker = (): boolean => cluster.isWorker;
