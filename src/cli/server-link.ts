/**
 * How a CLI command reaches the server that runs on the same data_dir, when one does.
 *
 * `vigil serve` writes `data_dir/server.json` (its pid and the bound REST address, port 0
 * resolved) once it listens, and removes it when it stops. A command that must act inside the
 * running server (`vigil user del`: the deleted user's sessions end there) reads the file, checks
 * that the pid is alive, and calls the REST API with the token the server uses (api.token /
 * VIGIL_API_TOKEN, else data_dir/api-token). Peers do the same: ejabberdctl and `emqx ctl` talk to
 * the running node. No file, or a dead pid: no server runs on this data_dir, the command works on
 * the store alone.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SERVER_FILE = 'server.json';

export interface ServerInfo {
  pid: number;
  /** The REST listener as bound (host as configured, port resolved). */
  http: { host: string; port: number } | null;
  startedAt: number;
}

export function writeServerFile(dataDir: string, info: ServerInfo): void {
  writeFileSync(join(dataDir, SERVER_FILE), `${JSON.stringify({ pid: info.pid, http: info.http, started_at: info.startedAt })}\n`, { mode: 0o600 });
}

/** Remove the file if it still names `pid` (a newer server may have replaced it). */
export function removeServerFile(dataDir: string, pid: number): void {
  if (readServerFile(dataDir)?.pid === pid) rmSync(join(dataDir, SERVER_FILE), { force: true });
}

function readServerFile(dataDir: string): ServerInfo | null {
  try {
    const o = JSON.parse(readFileSync(join(dataDir, SERVER_FILE), 'utf8')) as { pid?: unknown; http?: ServerInfo['http']; started_at?: unknown };
    if (typeof o.pid !== 'number') return null;
    return { pid: o.pid, http: o.http ?? null, startedAt: typeof o.started_at === 'number' ? o.started_at : 0 };
  } catch {
    return null; // absent or half written: no server to talk to
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, another user's
  }
}

/** The server running on this data_dir, if any. */
export function runningServer(dataDir: string): ServerInfo | null {
  const info = readServerFile(dataDir);
  return info && info.pid !== process.pid && alive(info.pid) ? info : null;
}

/** Base URL of a server's REST API; a wildcard bind is reached on loopback. */
export function restBase(http: { host: string; port: number }): string {
  const host = http.host === '0.0.0.0' ? '127.0.0.1' : http.host === '::' ? '::1' : http.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${http.port}`;
}

export type RestOutcome = { kind: 'answered'; status: number; code: string | null } | { kind: 'unreachable'; why: string };

/** One REST call to the running server; `unreachable` when nothing listens there (a stale file). */
export async function callServer(info: ServerInfo, token: string, method: string, path: string, timeoutMs = 10_000): Promise<RestOutcome> {
  if (!info.http) return { kind: 'unreachable', why: 'the server file names no REST address' };
  let res: Response;
  try {
    res = await fetch(`${restBase(info.http)}${path}`, { method, headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    if (cause === 'ECONNREFUSED') return { kind: 'unreachable', why: `nothing answers at ${restBase(info.http)}` };
    throw new Error(`the running server (pid ${info.pid}) at ${restBase(info.http)} did not answer: ${cause ?? (err as Error).message}`);
  }
  const text = await res.text();
  let code: string | null = null;
  try {
    code = text ? ((JSON.parse(text) as { code?: string }).code ?? null) : null;
  } catch {
    code = null;
  }
  return { kind: 'answered', status: res.status, code };
}
