/**
 * XEP-0198 resumption as the change feed shows it (issue 17), Vigil in process on real sockets and
 * real time. N clients log in, enable stream management with resumption and send presence; then
 * every client drops its TCP connection at once. Measured from the change feed, per client:
 * - drop -> `liveness` entry with state `resumable` (the session is not offline);
 * - for half of them, a new connection that resumes (`<resume previd h/>`): `<resume/>` written ->
 *   `<resumed/>` read, and -> the feed's `active` entry (same generation, no offline/online pair);
 * - for the other half: `resumable` -> `offline` entry with reason `resume_timeout`, against the goal
 *   `resume_timeout` (a timer of the liveness worker: within 50 ms like the ping deadlines);
 * - JS heap per resumable session (after gc, client sockets closed): what a session waiting for its
 *   client costs.
 *
 * Usage: npm run bench -- xmpp-resume [--n 200] [--resume-timeout 3]
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ChangeEntry } from '../src/presence/types.js';
import { newParser, plainLoginStep, streamHeader } from './suite/xmpp-login.js';
import { DOMAIN, PASSWORD } from './suite/servers.js';
import { startVigil } from './xmpp-ping-precision.js';

export const describe = 'XEP-0198: connection drop -> resumable, resume -> active, resume_timeout -> offline, from the change feed; heap per resumable session';

const SM = 'urn:xmpp:sm:3';
const header = streamHeader(DOMAIN);

function option(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

/**
 * Log in with PLAIN; then either bind + enable resumption + presence (resolves with the SM id), or
 * resume `previd` (resolves with the time from writing `<resume/>` to reading `<resumed/>`).
 */
function session(port: number, user: string, previd?: string): Promise<{ sock: Socket; id: string; resumeAt: number; resumeMs: number }> {
  return new Promise((resolve, reject) => {
    const sock = tcpConnect(port, '127.0.0.1');
    const parser = newParser();
    let step = 0;
    let resumeAt = 0;
    sock.setNoDelay(true);
    sock.on('connect', () => sock.write(header));
    sock.on('error', reject);
    sock.on('data', (chunk: Buffer) => {
      for (const ev of parser.write(chunk)) {
        if (ev.type !== 'stanza') continue;
        const el = ev.el;
        const next = plainLoginStep(step, el, sock, parser, DOMAIN, user, PASSWORD);
        if (next !== step) {
          step = next;
          continue;
        }
        if (step === 2 && el.name === 'stream:features') {
          step = 3;
          if (previd !== undefined) {
            resumeAt = performance.now();
            sock.write(`<resume xmlns='${SM}' previd='${previd}' h='0'/>`);
          } else {
            sock.write(`<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>bench</resource></bind></iq>`);
          }
        } else if (step === 3 && el.name === 'resumed') {
          step = 5;
          resolve({ sock, id: previd ?? '', resumeAt, resumeMs: performance.now() - resumeAt });
        } else if (step === 3 && el.name === 'iq' && el.attrs.id === 'b') {
          step = 4;
          sock.write(`<enable xmlns='${SM}' resume='true'/>`);
        } else if (step === 4 && el.name === 'enabled') {
          step = 5;
          sock.write('<presence/>');
          resolve({ sock, id: String(el.attrs.id), resumeAt: 0, resumeMs: 0 });
        } else if (el.name === 'failed' || el.name === 'stream:error') {
          reject(new Error(`${user}: ${el.name}`));
        } else if (el.name === 'r') {
          sock.write(`<a xmlns='${SM}' h='0'/>`);
        }
      }
    });
  });
}

function row(name: string, xs: number[], goal?: number): string {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
  const worst = goal === undefined ? '' : `${Math.max(...s.map((x) => Math.abs(x - goal))).toFixed(1)} ms`;
  return `| ${name} | ${s.length} | ${q(0).toFixed(1)} | ${q(0.5).toFixed(1)} | ${q(0.95).toFixed(1)} | ${(s.at(-1) ?? NaN).toFixed(1)} | ${worst} |`;
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

export async function run(args: string[]): Promise<void> {
  const n = option(args, '--n', 200);
  const resumeTimeout = option(args, '--resume-timeout', 3);
  // ping_interval long: no probe during the run; resume_timeout is the deadline under test.
  const server = await startVigil(n, 3600, 30, { stream_management: true, resume_timeout: resumeTimeout, max_connection_rate_per_ip: 0 });
  const jid = (i: number) => `u${i}@${DOMAIN}/bench`;
  const events = new Map<string, { kind: string; liveness: string | null; reason?: string | undefined; at: number }[]>();
  const off = server.presence.onChange((e: ChangeEntry) => {
    const list = events.get(e.id) ?? [];
    list.push({ kind: e.kind, liveness: e.row?.liveness ?? null, reason: e.reason, at: performance.now() });
    events.set(e.id, list);
  });
  try {
    gc();
    const heap0 = process.memoryUsage().heapUsed;
    const sessions = await Promise.all(Array.from({ length: n }, (_, i) => session(server.port, `u${i}`)));
    await new Promise((r) => setTimeout(r, 200));
    events.clear();
    const droppedAt = performance.now();
    for (const s of sessions) s.sock.destroy();
    await new Promise((r) => setTimeout(r, 300));
    gc();
    const heapResumable = (process.memoryUsage().heapUsed - heap0) / n;
    const toResumable = sessions.map((_, i) => (events.get(jid(i))?.find((e) => e.liveness === 'resumable')?.at ?? NaN) - droppedAt);
    const half = Math.floor(n / 2);
    const resumed = await Promise.all(sessions.slice(0, half).map((s, i) => session(server.port, `u${i}`, s.id)));
    await new Promise((r) => setTimeout(r, resumeTimeout * 1000 + 500));
    const toActive = resumed.map((r, i) => {
      const list = events.get(jid(i)) ?? [];
      const at = list.find((e) => e.kind === 'liveness' && e.liveness === 'active')?.at ?? NaN;
      return at - r.resumeAt;
    });
    const offlineOfResumed = Array.from({ length: half }, (_, i) => (events.get(jid(i)) ?? []).filter((e) => e.kind === 'offline').length).reduce((a, b) => a + b, 0);
    const toOffline = Array.from({ length: n - half }, (_, k) => {
      const list = events.get(jid(half + k)) ?? [];
      const e = list.find((x) => x.kind === 'offline');
      const from = list.find((x) => x.liveness === 'resumable')?.at ?? NaN;
      return e?.reason === 'resume_timeout' ? e.at - from : NaN;
    });
    for (const r of resumed) r.sock.destroy();
    console.log(`${n} stream-managed sessions, resume_timeout ${resumeTimeout} s; all connections dropped at once, ${half} resumed, ${n - half} left to time out\n`);
    console.log('| event (feed entry; from the drop unless said) | n | min ms | median ms | p95 ms | max ms | worst error |');
    console.log('|---|---|---|---|---|---|---|');
    console.log(row('liveness resumable', toResumable));
    console.log(row('`<resume/>` written -> `<resumed/>` read', resumed.map((r) => r.resumeMs)));
    console.log(row('`<resume/>` written -> liveness active again', toActive));
    console.log(row(`resumable -> offline, reason resume_timeout (goal ${resumeTimeout * 1000} ms)`, toOffline, resumeTimeout * 1000));
    console.log(`\noffline entries for resumed sessions: ${offlineOfResumed} (must be 0); timed out with another reason or not at all: ${toOffline.filter(Number.isNaN).length}`);
    console.log(`JS heap per resumable session (after gc, sockets closed): ${(heapResumable / 1024).toFixed(2)} KB`);
  } finally {
    off();
    await server.stop();
  }
}
