/**
 * Spawn the real `vigil` process from source (node + tsx's ESM loader by absolute URL, since the
 * child runs in a temp dir where a bare `tsx` does not resolve), and wait for its `vigil_started`
 * log line with the bound addresses.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = new URL('../..', import.meta.url).pathname;
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

export type Addresses = Record<'xmpp' | 'mqtt' | 'http', { host: string; port: number }>;

export function spawnVigil(args: string[], cwd: string, env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', TSX, join(ROOT, 'test/support/run-cli.ts'), ...args], {
    cwd,
    env: { ...process.env, VIGIL_API_TOKEN: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Resolves with the addresses once the server logged `vigil_started`; `log()` returns its stdout so far. */
export function whenStarted(child: ChildProcess): { started: Promise<Addresses>; log: () => string } {
  let out = '';
  let early: ((code: number | null) => void) | null = null;
  const started = new Promise<Addresses>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes('"vigil_started"'));
      if (line) resolve((JSON.parse(line) as { addresses: Addresses }).addresses);
    });
    early = (code) => reject(new Error(`server exited early (${code}): ${out}`));
    child.once('exit', early);
  });
  void started.then(
    () => early && child.off('exit', early),
    () => undefined,
  );
  return { started, log: () => out };
}

/** Run one `vigil` command to its end: exit code and everything it printed. */
export function runVigil(args: string[], cwd: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawnVigil(args, cwd);
    let out = '';
    let err = '';
    p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (code) => resolve({ code, out, err }));
  });
}
