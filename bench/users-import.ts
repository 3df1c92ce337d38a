/**
 * Creating users while the server keeps its liveness timers (issue 20): users created per second,
 * and how late the liveness timers fire meanwhile (past their due time; budget:
 * liveness.timer_slack_ms, the grid the timers already sit on).
 *
 * The server is the real app (createApp: SQLite store in a temp data_dir, REST on 127.0.0.1:0; no
 * XMPP/MQTT listeners) with `--endpoints` endpoints tracked on a host with ping_interval 1 s, each
 * answering its probe a turn later: about that many timer decisions a second, on the 10 ms grid.
 * Every timer the liveness core sets goes through a scheduler that records fire time - due time.
 * Phases, one after the other, each with fresh user names:
 *   idle    nothing but the liveness load (the baseline lag);
 *   import  one POST /v1/hosts/{host}/users/import with `--users` CSV lines;
 *   posts   `--users` POST /v1/hosts/{host}/users from 8 parallel clients (what issue 20 ran);
 *   cli     `vigil user import FILE` in another process on the same data_dir.
 * HTTP clients run in a worker thread (their own event loop), the CLI in a child process. "loop
 * busy" is the server's event loop utilisation over the phase: a late timer while the loop was
 * mostly idle waited for a CPU (a loaded machine), not for our code.
 *
 * Usage: npm run bench -- users-import [--users 5000] [--endpoints 2000] [--phases idle,import,posts,cli]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import { createApp } from '../src/app.js';
import { parseConfig } from '../src/config/load.js';
import type { EndpointRef, LivenessAdapter, LivenessRegistry } from '../src/liveness/types.js';
import { type Scheduler, systemScheduler } from '../src/time/scheduler.js';

export const describe = 'users created per second (REST import, 8-client POSTs, CLI import) and the liveness timer lag meanwhile';

const HOST = 'bench.example';
const TOKEN = 'bench-token-users-import';

function option(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

/** Records how late each timer fires (ms past its due time). */
function lagRecorder(base: Scheduler): { scheduler: Scheduler; take(): number[] } {
  let lags: number[] = [];
  return {
    scheduler: {
      setTimer(delayMs, fn) {
        const due = performance.now() + Math.max(0, delayMs);
        return base.setTimer(delayMs, () => {
          lags.push(performance.now() - due);
          fn();
        });
      },
    },
    take() {
      const out = lags;
      lags = [];
      return out;
    },
  };
}

/** Answers every probe one turn later, like a client's pong arriving. */
class PongAdapter implements LivenessAdapter {
  constructor(private readonly liveness: LivenessRegistry) {}
  probe(ep: EndpointRef): void {
    setImmediate(() => this.liveness.get(ep)?.answered('pong'));
  }
  kill(ep: EndpointRef): void {
    this.liveness.get(ep)?.untrack('kicked');
  }
}

// Runs in a worker thread: `mode` posts, `users` names from `prefix`.
const CLIENT = `
const { parentPort, workerData: w } = require('node:worker_threads');
const headers = { authorization: 'Bearer ' + w.token };
(async () => {
  const t0 = performance.now();
  const codes = {};
  const count = (c) => { codes[c] = (codes[c] || 0) + 1; };
  if (w.mode === 'import') {
    const body = Array.from({ length: w.users }, (_, i) => w.prefix + i + ',pw-' + i).join('\\n');
    const r = await fetch(w.url + '/import', { method: 'POST', headers: { ...headers, 'content-type': 'text/csv' }, body });
    const report = await r.json();
    count(r.status + ' created=' + report.created);
  } else {
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < w.users) {
        const i = next++;
        try {
          const r = await fetch(w.url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ user: w.prefix + i, password: 'pw-' + i }) });
          await r.arrayBuffer();
          count(r.status);
        } catch (e) { count('error ' + (e.cause?.code ?? e.message)); }
      }
    }));
  }
  parentPort.postMessage({ ms: performance.now() - t0, codes });
})();
`;

function runClient(data: object): Promise<{ ms: number; codes: Record<string, number> }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(CLIENT, { eval: true, workerData: data });
    w.once('message', (m) => {
      resolve(m as { ms: number; codes: Record<string, number> });
      void w.terminate();
    });
    w.once('error', reject);
  });
}

function runCli(args: string[]): Promise<{ ms: number; codes: Record<string, number> }> {
  const t0 = performance.now();
  // The CLI from source (no build needed), as `vigil ARGS`.
  const main = new URL('../src/main.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(main)}).then(async (m) => { process.exitCode = await m.main(process.argv.slice(1)); })`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', code, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let last = '';
  child.stdout.on('data', (d: Buffer) => {
    const lines = d.toString().trimEnd().split('\n');
    last = lines[lines.length - 1] ?? last;
  });
  return new Promise((resolve) => child.once('exit', (status) => resolve({ ms: performance.now() - t0, codes: { [`exit ${status}: ${last}`]: 1 } })));
}

const q = (sorted: number[], p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!);

export async function run(args: string[]): Promise<void> {
  const users = option(args, '--users', 5000);
  const endpoints = option(args, '--endpoints', 2000);
  const i = args.indexOf('--phases');
  const phases = (i >= 0 ? args[i + 1]! : 'idle,import,posts,cli').split(',');
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-users-'));
  const configFile = join(dir, 'vigil.yaml');
  const yaml = `data_dir: ${JSON.stringify(join(dir, 'data'))}
listeners: { http: { host: 127.0.0.1, port: 0 } }
api: { token: ${TOKEN} }
hosts:
  ${HOST}: { ping: { ping_interval: 1, ping_ack_timeout: 5, timeout_action: none } }
log: { level: warn }
`;
  writeFileSync(configFile, yaml);
  const loaded = parseConfig(yaml, configFile);
  const lag = lagRecorder(systemScheduler);
  const app = createApp({ loaded, logger: pino({ level: 'warn' }), scheduler: lag.scheduler, xmpp: false, mqtt: false, processMetrics: false });
  await app.start();
  const { liveness } = app.deps;
  const adapter = new PongAdapter(liveness);
  for (let n = 0; n < endpoints; n++) {
    liveness.track({ host: HOST, transport: 'mqtt', id: `dev-${n}` }, adapter, { onIdle: 'probe' });
    if (n % 20 === 19) await new Promise((r) => setTimeout(r, 10)); // spread the deadlines over the second
  }
  const url = `http://127.0.0.1:${app.addresses().http!.port}/v1/hosts/${HOST}/users`;
  await new Promise((r) => setTimeout(r, 1500));
  lag.take();

  const slack = loaded.config.liveness.timer_slack_ms;
  console.log(`${endpoints} endpoints probed every 1 s (timer_slack_ms ${slack}); ${users} users per phase; lag = timer fire time - due time`);
  console.log('| phase | users/s | seconds | answers | loop busy | timers | lag p50 ms | lag p99 ms | lag max ms | max within slack |');
  console.log('| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |');
  let p = 0;
  for (const phase of phases) {
    const prefix = `${phase}${p++}-`;
    let result: { ms: number; codes: Record<string, number> };
    const elu0 = performance.eventLoopUtilization();
    if (phase === 'idle') {
      await new Promise((r) => setTimeout(r, 3000));
      result = { ms: 3000, codes: {} };
    } else if (phase === 'cli') {
      const file = join(dir, `${prefix}users.csv`);
      writeFileSync(file, Array.from({ length: users }, (_, n) => `${prefix}${n}@${HOST},pw-${n}`).join('\n'));
      result = await runCli(['user', 'import', file, '--config', configFile]);
    } else {
      result = await runClient({ mode: phase, users, prefix, url, token: TOKEN });
    }
    const busy = performance.eventLoopUtilization(elu0).utilization;
    const lags = lag.take().sort((a, b) => a - b);
    const rate = phase === 'idle' ? '-' : (users / (result.ms / 1000)).toFixed(0);
    const max = lags[lags.length - 1] ?? NaN;
    const answers = Object.entries(result.codes).map(([k, v]) => (v === 1 && phase !== 'posts' ? k : `${v}x ${k}`)).join(', ') || '-';
    console.log(
      `| ${phase} | ${rate} | ${(result.ms / 1000).toFixed(1)} | ${answers} | ${(busy * 100).toFixed(0)}% | ${lags.length} | ${q(lags, 0.5).toFixed(1)} | ${q(lags, 0.99).toFixed(1)} | ${max.toFixed(1)} | ${max <= slack ? 'yes' : 'no'} |`,
    );
  }
  await app.stop();
  rmSync(dir, { recursive: true, force: true });
}
