/**
 * XEP-0199 server ping precision on real sockets and real time (ejabberd mod_ping semantics):
 * with ping_interval 5, ping_ack_timeout 3, timeout_action kill, N clients log in, send initial
 * presence (their last stanza) and then go silent. Per client, on the client side of a loopback
 * connection, we measure the time from writing that last stanza to (a) the server's
 * <iq type='get'><ping/></iq> arriving — goal 5.00 s — and (b) the stream error
 * `connection-timeout` arriving — goal 8.00 s, each within 50 ms. The Vigil side is composed as in
 * app.ts (XMPP service + liveness registry + presence table, system clock and scheduler).
 *
 * With `--ejabberd` (needs Debian's ejabberd package and root, to run it as the ejabberd user) the
 * same clients are measured against ejabberd's mod_ping in the same run, started by the comparison
 * suite's starter (bench/suite/ejabberd.ts: temporary configuration, free loopback port, SCRAM
 * accounts) and stopped afterwards.
 *
 * Usage: npm run bench -- xmpp-ping-precision [--n 20] [--interval 5] [--ack 3] [--ejabberd]
 */
import { connect as tcpConnect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { makeUserRecord } from '../src/auth/users.js';
import { validate } from '../src/config/dsl.js';
import { rootSchema } from '../src/config/schema/root.js';
import { PasswordChecker } from '../src/auth/password-cache.js';
import { fileHostSettings } from '../src/host-settings.js';
import { createLivenessRegistry } from '../src/liveness/registry.js';
import { createMetrics } from '../src/metrics.js';
import { createPresenceTable } from '../src/presence/table.js';
import type { PresenceTable } from '../src/presence/types.js';
import { createMemoryStore } from '../src/store/memory.js';
import { systemClock } from '../src/time/clock.js';
import { systemScheduler } from '../src/time/scheduler.js';
import type { XmppDeps } from '../src/xmpp/engine.js';
import { createXmppListener } from '../src/xmpp/listener.js';
import { SCRAM_ITERATIONS, startEjabberd as startSuiteEjabberd } from './suite/ejabberd.js';
import { installExitHooks } from './suite/proc.js';
import { newParser, plainLoginStep, streamHeader } from './suite/xmpp-login.js';
import { absentReason, DOMAIN, PASSWORD } from './suite/servers.js';

export const describe = 'XEP-0199 server ping 5.00 s after the last client stanza and kill at 8.00 s (ping_interval 5, ping_ack_timeout 3), each within 50 ms';

function option(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

interface Sample {
  pingMs: number;
  killMs: number;
  condition: string;
}

const header = streamHeader(DOMAIN);

/** Log in (PLAIN on a plain stream: the bench host allows it), bind, send presence, go silent. */
export function silentClient(port: number, user: string): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const sock = tcpConnect(port, '127.0.0.1');
    const parser = newParser();
    let step = 0;
    let lastSent = 0;
    let pingAt = -1;
    let done = false;
    // The kill is the first of: a stream error, the server's </stream:stream>, the socket closing
    // (ejabberd's kill closes the stream without a stream error).
    const killed = (now: number, condition: string) => {
      if (done) return;
      done = true;
      if (step < 4) reject(new Error(`${user}: stream ended during login (${condition})`));
      else resolve({ pingMs: pingAt - lastSent, killMs: now - lastSent, condition });
      sock.destroy();
    };
    sock.setNoDelay(true);
    sock.on('connect', () => sock.write(header));
    sock.on('error', (err) => killed(performance.now(), `socket error ${err.message}`));
    sock.on('close', () => killed(performance.now(), 'socket closed'));
    sock.on('data', (chunk) => {
      const now = performance.now();
      for (const ev of parser.write(chunk)) {
        if (ev.type === 'close') killed(now, 'stream closed');
        if (ev.type !== 'stanza') continue;
        const el = ev.el;
        const next = plainLoginStep(step, el, sock, parser, DOMAIN, user, PASSWORD);
        if (next !== step) {
          step = next;
          continue;
        }
        if (step === 2 && el.name === 'stream:features') {
          step = 3;
          sock.write(`<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>bench</resource></bind></iq>`);
        } else if (step === 3 && el.name === 'iq' && el.attrs.id === 'b') {
          step = 4;
          // Stamped before the write (the bytes reach the kernel inside write()); a write callback
          // can run a loop turn later and would make the times look shorter.
          lastSent = performance.now();
          sock.write('<presence/>');
        } else if (step === 4 && el.name === 'iq' && el.attrs.type === 'get' && pingAt < 0) {
          pingAt = now;
        } else if (el.name === 'stream:error') {
          const cond = el.children.find((c) => typeof c !== 'string');
          killed(now, typeof cond === 'object' ? cond.name : '?');
        }
      }
    });
  });
}

function stats(xs: number[], goal: number): string {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
  const worst = Math.max(...s.map((x) => Math.abs(x - goal)));
  return `${(q(0) / 1000).toFixed(3)} | ${(q(0.5) / 1000).toFixed(3)} | ${(q(0.95) / 1000).toFixed(3)} | ${((s.at(-1) ?? NaN) / 1000).toFixed(3)} | ${worst.toFixed(1)} ms | ${worst <= 50 ? 'yes' : 'NO'}`;
}

export interface Server {
  name: string;
  port: number;
  stop(): Promise<void>;
}

/** Vigil's XMPP service composed as in app.ts; `xmpp` adds host options (bench/xmpp-resume.ts: stream management). */
export async function startVigil(n: number, interval: number, ack: number, xmpp: Record<string, unknown> = {}): Promise<Server & { presence: PresenceTable }> {
  const config = validate(rootSchema, {
    listeners: { xmpp: { host: '127.0.0.1', port: 0, max_conn_rate: 0 } },
    hosts: {
      [DOMAIN]: {
        ping: { send_pings: true, ping_interval: interval, ping_ack_timeout: ack, timeout_action: 'kill' },
        xmpp: { tls: 'off', allow_plaintext_auth: true, max_connections_per_ip: 0, ...xmpp },
      },
    },
  });
  const store = createMemoryStore();
  for (let i = 0; i < n; i++) store.users.put(makeUserRecord(DOMAIN, `u${i}`, PASSWORD, systemClock, SCRAM_ITERATIONS));
  const liveness = createLivenessRegistry({ clock: systemClock, scheduler: systemScheduler, hosts: fileHostSettings(config) });
  const presence = createPresenceTable({ clock: systemClock, scheduler: systemScheduler, liveness, feedSize: 10_000, offlineTtlMs: 60_000, maxOffline: 10_000 });
  const deps: XmppDeps = {
    config,
    dataDir: '/nonexistent',
    clock: systemClock,
    scheduler: systemScheduler,
    logger: pino({ level: 'silent' }),
    store,
    liveness,
    presence,
    metrics: createMetrics(),
    passwords: new PasswordChecker(store),
  };
  const svc = createXmppListener(deps);
  await svc.start();
  return {
    name: 'Vigil',
    presence,
    port: svc.address()?.port ?? 0,
    async stop() {
      await svc.stop();
      liveness.stop();
      presence.stop();
    },
  };
}

/** ejabberd (Debian package) by the suite's starter: mod_ping with the same options, SCRAM accounts u0..u{n-1}. */
async function startEjabberd(n: number, interval: number, ack: number): Promise<Server> {
  installExitHooks();
  const e = await startSuiteEjabberd({ domain: DOMAIN, users: n, password: PASSWORD, auth: 'scram', pingInterval: interval, pingAckTimeout: ack });
  return { name: e.label, port: e.port, stop: e.stop };
}

export async function run(args: string[]): Promise<void> {
  const n = option(args, '--n', 20);
  const interval = option(args, '--interval', 5);
  const ack = option(args, '--ack', 3);
  const starters: ((n: number, interval: number, ack: number) => Promise<Server>)[] = [startVigil];
  if (args.includes('--ejabberd')) {
    const why = absentReason('ejabberd');
    if (why) console.log(`ejabberd skipped: ${why}`);
    else starters.push(startEjabberd);
  }
  console.log(`${n} silent clients per server, ping_interval ${interval} s, ping_ack_timeout ${ack} s, timeout_action kill; times from each client's last stanza\n`);
  console.log('| server | event (goal) | min s | median s | p95 s | max s | worst error | within 50 ms | how the stream ended |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const start of starters) {
    const server = await start(n, interval, ack);
    try {
      const samples = await Promise.all(Array.from({ length: n }, (_, i) => silentClient(server.port, `u${i}`)));
      const how = [...new Set(samples.map((s) => s.condition))].join(', ');
      console.log(`| ${server.name} | ping sent (${interval.toFixed(2)} s) | ${stats(samples.map((s) => s.pingMs), interval * 1000)} | |`);
      console.log(`| ${server.name} | killed (${(interval + ack).toFixed(2)} s) | ${stats(samples.map((s) => s.killMs), (interval + ack) * 1000)} | ${how} |`);
    } finally {
      await server.stop();
    }
  }
}
