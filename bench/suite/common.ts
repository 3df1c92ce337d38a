/**
 * Shared by the comparison scenarios: options (`--quick`, `--n A,B`, `--servers a,b`, `--window S`,
 * `--tsx` / `--compiled`, `--cpu-prof`, `--ejabberd-auth scram|anonymous`), running one
 * server at a time (started, measured alone, stopped by PID even when the measurement fails), and
 * small statistics helpers.
 */
import { join } from 'node:path';
import type { Generator } from './generator.js';
import { note } from './report.js';
import type { XmppAuth } from './ejabberd.js';
import { absentReason, type RunningServer, type ServerKind, startServer, type StartOptions } from './servers.js';
import { installExitHooks, procSample, sleep, threadCpu } from './proc.js';

export interface SuiteOptions {
  quick: boolean;
  /** Client counts from `--n 1000,2000`, or undefined for the scenario's default. */
  n?: number[] | undefined;
  servers?: ServerKind[] | undefined;
  /** Measurement window in s from `--window`. */
  window?: number | undefined;
  /** Run Vigil compiled (default for full runs) or from source under tsx (`--tsx`, default with --quick). */
  compiled: boolean;
  /** `--cpu-prof`: Vigil runs under node --cpu-prof, profiles in bench/results/profiles/. */
  cpuProfDir: string | undefined;
  /** ejabberd's XMPP logins: real SCRAM accounts (default) or `--ejabberd-auth anonymous` (login_anon, no password check). */
  ejabberdAuth: XmppAuth;
}

export function parseOptions(args: string[]): SuiteOptions {
  const get = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const n = get('--n')
    ?.split(',')
    .map(Number)
    .filter((x) => Number.isFinite(x) && x > 0);
  const servers = get('--servers')?.split(',') as ServerKind[] | undefined;
  const window = Number(get('--window'));
  const quick = args.includes('--quick');
  const compiled = args.includes('--compiled') || (!quick && !args.includes('--tsx'));
  const cpuProfDir = args.includes('--cpu-prof') ? join(new URL('../..', import.meta.url).pathname, 'bench/results/profiles') : undefined;
  const auth = get('--ejabberd-auth') ?? 'scram';
  if (auth !== 'scram' && auth !== 'anonymous') throw new Error(`--ejabberd-auth ${auth}: scram or anonymous`);
  return { quick, n, servers, window: Number.isFinite(window) && window > 0 ? window : undefined, compiled, cpuProfDir, ejabberdAuth: auth };
}

/** Run `fn` against each server kind in turn (alone on the machine); absent peers become a note. */
/**
 * The MQTT servers of conn-idle and pingscale, with the node-floor reference. The smoke run (--quick,
 * under 3 minutes) leaves the floor out unless --servers names it.
 */
export function mqttServersWithFloor(opts: SuiteOptions): ServerKind[] {
  return opts.quick && !opts.servers ? ['vigil', 'aedes', 'mosquitto'] : ['vigil', 'aedes', 'mosquitto', 'node-floor'];
}

export async function eachServer(scenario: string, kinds: ServerKind[], opts: SuiteOptions, start: StartOptions, fn: (s: RunningServer) => Promise<void>): Promise<void> {
  installExitHooks();
  for (const kind of kinds) {
    if (opts.servers && !opts.servers.includes(kind)) continue;
    const why = absentReason(kind);
    if (why) {
      note(scenario, `${kind} skipped: ${why}`);
      continue;
    }
    let server: RunningServer;
    try {
      server = await startServer(kind, { ...start, compiled: opts.compiled, cpuProfDir: opts.cpuProfDir, xmppAuth: opts.ejabberdAuth });
    } catch (err) {
      note(scenario, `${kind} skipped: could not start (${(err as Error).message.slice(0, 300)})`);
      continue;
    }
    console.log(`  ${scenario}: ${server.label} (pid ${server.pid})`);
    try {
      await sleep(opts.quick ? 300 : 2000); // let start-up work settle before the baseline
      await fn(server);
    } catch (err) {
      note(scenario, `${server.label} failed: ${(err as Error).message}`);
    } finally {
      await server.stop();
    }
  }
}

/** Sample the server before and after `fn`: CPU ms spent and RSS KB grown meanwhile. */
export async function measured<T>(pid: number, fn: () => Promise<T>): Promise<{ result: T; cpuMs: number; sysMs: number; rssKb: number; wallMs: number }> {
  const a = procSample(pid);
  const t0 = performance.now();
  const result = await fn();
  const wallMs = performance.now() - t0;
  const b = procSample(pid);
  return { result, cpuMs: b.cpuMs - a.cpuMs, sysMs: b.sysMs - a.sysMs, rssKb: b.rssKb - a.rssKb, wallMs };
}

export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

export function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export interface WindowSample {
  ms: number;
  /** Answers the clients got in the window (PINGRESPs, or XMPP pings answered). */
  pongs: number;
  serverCpuMs: number;
  /** Of serverCpuMs, the time in the kernel. */
  serverSysMs: number;
  serverRssKb: number;
  generatorCpuMs: number;
  /** Client sockets still open at the end. */
  open: number;
}

/** Server and generator figures over a window of `seconds` while the clients do their work. */
export async function sampleWindow(gen: Generator, pid: number, seconds: number): Promise<WindowSample> {
  const s0 = await gen.stats();
  const p0 = procSample(pid);
  const th0 = threadCpu(pid);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const s1 = await gen.stats();
  const p1 = procSample(pid);
  if (process.env.VIGIL_BENCH_THREADS === '1') {
    const th = [...threadCpu(pid)].filter(([name, ms]) => ms - (th0.get(name) ?? 0) > 0).map(([name, ms]) => `${name} ${(ms - (th0.get(name) ?? 0)).toFixed(0)} ms`);
    console.log(`  server CPU by thread over the window: ${th.join(', ')}`);
  }
  return {
    ms: performance.now() - t0,
    pongs: s1.pongs - s0.pongs,
    serverCpuMs: p1.cpuMs - p0.cpuMs,
    serverSysMs: p1.sysMs - p0.sysMs,
    serverRssKb: p1.rssKb,
    generatorCpuMs: s1.cpuMs - s0.cpuMs,
    open: s1.open,
  };
}
