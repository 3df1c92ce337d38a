/**
 * The load generator as a set of worker processes (load-worker.ts), each holding part of the
 * clients: with a per-process file limit of 20,000 one process cannot hold 19,500 client sockets
 * plus its own descriptors comfortably, and two workers use both cores while connecting. Commands
 * are split across workers and their answers summed; the generator's CPU is the workers' CPU.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Close, WorkerRequest, WorkerStats } from './load-worker.js';
import { spawnTracked, stopTracked } from './proc.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

/** Most client sockets one worker holds. */
export const PER_WORKER = 9_900;

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

class Worker {
  private seq = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(readonly proc: ChildProcess) {
    proc.on('message', (m: { seq: number; res?: unknown; error?: string }) => {
      const p = this.pending.get(m.seq);
      if (!p) return;
      this.pending.delete(m.seq);
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.res);
    });
    proc.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`load worker exited (${code})`));
      this.pending.clear();
    });
  }

  call<T>(req: WorkerRequest): Promise<T> {
    const seq = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ seq, req });
    });
  }
}

export interface Done {
  ok: number;
  failed: number;
  /** Wall time of the slowest worker. */
  ms: number;
}

/** A load worker (tsx: about 1 s of start-up) with its IPC channel; unref'd while it waits as a spare. */
function spawnWorker(): Worker {
  const proc = spawnTracked(process.execPath, ['--import', TSX, join(ROOT, 'bench/suite/load-worker.ts')], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Worker(proc);
}

/**
 * Workers booted when a generator stops, between measurements (the next server is being started
 * then), so the next Generator.start does not wait for tsx. Unref'd: a spare left at the end does
 * not keep the run alive (the exit hook stops it by PID).
 */
const spares: Worker[] = [];

function keepSpare(w: Worker): void {
  w.proc.unref();
  w.proc.channel?.unref();
  spares.push(w);
}

function takeWorker(): Worker {
  const w = spares.shift();
  if (!w || w.proc.exitCode !== null || w.proc.signalCode !== null) return spawnWorker();
  w.proc.ref();
  w.proc.channel?.ref();
  return w;
}

export class Generator {
  private constructor(private readonly workers: Worker[]) {}

  /** Enough workers for `clients` sockets (at least `min`), spares first. */
  static async start(clients: number, min = 1): Promise<Generator> {
    const n = Math.max(min, Math.ceil(clients / PER_WORKER));
    const g = new Generator(Array.from({ length: n }, takeWorker));
    await g.stats(); // every worker is up and answering
    return g;
  }

  get pids(): number[] {
    return this.workers.map((w) => w.proc.pid ?? 0);
  }

  private split(total: number): number[] {
    const n = this.workers.length;
    return this.workers.map((_, i) => Math.floor(total / n) + (i < total % n ? 1 : 0));
  }

  private async each<T>(make: (i: number, share: number, first: number) => WorkerRequest | null, total = 0): Promise<T[]> {
    const shares = this.split(total);
    let first = 0;
    const calls: Promise<T>[] = [];
    this.workers.forEach((w, i) => {
      const req = make(i, shares[i] ?? 0, first);
      first += shares[i] ?? 0;
      if (req) calls.push(w.call<T>(req));
    });
    return Promise.all(calls);
  }

  private static sum(parts: Done[]): Done {
    return { ok: parts.reduce((a, p) => a + p.ok, 0), failed: parts.reduce((a, p) => a + p.failed, 0), ms: Math.max(0, ...parts.map((p) => p.ms)) };
  }

  /** `spreadMs` > 0: one connect at a time per worker, that many ms apart (deadlines not all in one ms). */
  async mqttConnect(port: number, count: number, keepalive: number, tag: string, concurrency = 100, spreadMs = 0): Promise<Done> {
    const parts = await this.each<Done>((i, share) => (share ? { op: 'mqtt-connect', port, count: share, idPrefix: `${tag}-w${i}-`, keepalive, concurrency: spreadMs > 0 ? 1 : concurrency, spreadMs } : null), count);
    return Generator.sum(parts);
  }

  async xmppLogin(port: number, count: number, domain: string, password: string, answerPings: boolean, concurrency = 100, sm = false): Promise<Done> {
    const parts = await this.each<Done>((_, share, first) => (share ? { op: 'xmpp-login', port, count: share, first, domain, password, answerPings, sm, concurrency } : null), count);
    return Generator.sum(parts);
  }

  async pingStart(intervalMs: number): Promise<void> {
    await this.each(() => ({ op: 'ping-start', intervalMs }));
  }

  async pingStop(): Promise<void> {
    await this.each(() => ({ op: 'ping-stop' }));
  }

  async stats(): Promise<WorkerStats> {
    const parts = await this.each<WorkerStats>(() => ({ op: 'stats' }));
    const total: WorkerStats = { open: 0, pingsSent: 0, pongs: 0, serverPings: 0, closedByServer: 0, cpuMs: 0 };
    for (const p of parts) for (const k of Object.keys(total) as (keyof WorkerStats)[]) total[k] += p[k];
    return total;
  }

  async closes(): Promise<Close[]> {
    const parts = await this.each<{ closes: Close[] }>(() => ({ op: 'closes' }));
    return parts.flatMap((p) => p.closes);
  }

  /** A 1 ms timer in each worker so every close says how long the worker had not run (Close.gap). */
  async loopProbe(on: boolean): Promise<void> {
    await this.each(() => ({ op: 'loop-probe', on }));
  }

  async closeAll(): Promise<void> {
    await this.each(() => ({ op: 'close-all' }));
  }

  /** Stops the workers and boots as many spares for the next generator. */
  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => stopTracked(w.proc, 2000)));
    while (spares.length < this.workers.length) keepSpare(spawnWorker());
  }
}
