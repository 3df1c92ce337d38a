/**
 * Process plumbing for the comparison suite: CPU and RSS of a PID from /proc, the generator's own
 * CPU, free loopback ports, and a registry of every child process the suite started so that they
 * are all stopped by PID (process group) on the normal path, on an error and on exit/signals.
 */
import { type ChildProcess, execFileSync, spawn, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';

const TICKS_PER_S = 100; // getconf CLK_TCK on Linux x86-64

export interface ProcSample {
  /** utime + stime in ms (/proc/PID/stat fields 14 and 15). */
  cpuMs: number;
  /** stime alone in ms: time in the kernel (system calls, loopback TCP work done on this process's behalf). */
  sysMs: number;
  /** VmRSS in KB (/proc/PID/status). */
  rssKb: number;
}

export function procSample(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // comm may hold spaces: fields after the closing parenthesis start at field 3 (state).
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuMs = ((Number(rest[11]) + Number(rest[12])) * 1000) / TICKS_PER_S;
  const sysMs = (Number(rest[12]) * 1000) / TICKS_PER_S;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return { cpuMs, sysMs, rssKb: m ? Number(m[1]) : NaN };
}

/** User and system CPU ms per thread name (/proc/PID/task/TID/stat), summed over threads of the same name. */
export function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const comm = `${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))}${Number(tid) === pid ? '[main]' : ''}`;
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Two entries per thread name: user and system time.
      out.set(`${comm} user`, (out.get(`${comm} user`) ?? 0) + (Number(rest[11]) * 1000) / TICKS_PER_S);
      out.set(`${comm} sys`, (out.get(`${comm} sys`) ?? 0) + (Number(rest[12]) * 1000) / TICKS_PER_S);
    } catch {
      /* thread ended */
    }
  }
  return out;
}

/** Sum over several PIDs (a generator made of worker processes). */
export function procSampleSum(pids: number[]): ProcSample {
  const sum: ProcSample = { cpuMs: 0, sysMs: 0, rssKb: 0 };
  for (const pid of pids) {
    const s = procSample(pid);
    sum.cpuMs += s.cpuMs;
    sum.sysMs += s.sysMs;
    sum.rssKb += s.rssKb;
  }
  return sum;
}

/** Descendants of pid (children first), read from /proc/PID/task/TID/children. */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    let kids = '';
    try {
      kids = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const k of kids.trim().split(/\s+/).filter(Boolean).map(Number)) out.push(k, ...descendants(k));
  }
  return out;
}

export function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves once a TCP connect to 127.0.0.1:port succeeds (polled every 50 ms). */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`port ${port} did not open in ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Version of an installed Debian package without the Debian revision ("2.0.11"), or "?". */
export function dpkgVersion(pkg: string): string {
  try {
    return execFileSync('dpkg-query', ['-W', '-f', '${Version}', pkg], { encoding: 'utf8' }).trim().replace(/-.*/, '');
  } catch {
    return '?';
  }
}

const started = new Set<ChildProcess>();
const stopping = new WeakSet<ChildProcess>();

/** spawn() in its own process group, remembered until it exits so cleanup can stop it. */
export function spawnTracked(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts, detached: true });
  started.add(child);
  let tail = '';
  child.stderr?.on('data', (d: Buffer) => (tail = (tail + d.toString()).slice(-1500)));
  child.on('exit', (code, signal) => {
    started.delete(child);
    if (!stopping.has(child)) console.log(`  ${cmd} ${args.at(-1) ?? ''} (pid ${child.pid}) exited unexpectedly (${code ?? signal}): ${tail.trim()}`);
  });
  return child;
}

function signalGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    /* already gone */
  }
}

/** SIGTERM the child's process group, SIGKILL after graceMs; resolves when it has exited. */
export async function stopTracked(child: ChildProcess, graceMs = 5000): Promise<void> {
  stopping.add(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  signalGroup(child, 'SIGTERM');
  const t = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

/** Last resort on exit or a signal: SIGKILL every process group still running. */
export function killAllTracked(): void {
  for (const c of started) {
    stopping.add(c);
    signalGroup(c, 'SIGKILL');
  }
}

let hooked = false;
export function installExitHooks(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAllTracked);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAllTracked();
      process.exit(130);
    });
  }
}

/** Resolve with the first stdout/stderr line that matches, reject if the child exits first. */
export function waitForLine(child: ChildProcess, re: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) {
        if (re.test(l)) {
          done();
          resolve(l);
          return;
        }
      }
    };
    const onExit = (code: number | null) => {
      done();
      reject(new Error(`process exited (${code}) before printing ${re}: ${buf.slice(-500)}`));
    };
    const t = setTimeout(() => {
      done();
      reject(new Error(`timed out waiting for ${re}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(t);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', onExit);
  });
}
