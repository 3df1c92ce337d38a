/**
 * Per-session memory and per-ping CPU of Vigil's XMPP c2s layer, in process (issue 13: the
 * connection lifecycle, the admission effect and the session's liveness handle must not cost a
 * session anything). The real engine (src/xmpp/engine.ts) with the real liveness registry, presence
 * table and router on a ManualScheduler; N clients on in-memory duplex pairs log in with SASL PLAIN
 * (a cache hit after the first), bind a resource and send initial presence.
 *
 *   - heap per session: JS heap + ArrayBuffers after forced GCs, the pairs and client listeners
 *     made before the baseline, so what is printed is what the server side keeps per session
 *     (connection, bound session, liveness endpoint, presence row, router entry, parser);
 *   - CPU per ping round trip: manual time moves one ping_interval, every session gets the server's
 *     XEP-0199 ping, each client answers `<iq type='result'/>` from its data listener; process CPU
 *     over `--rounds` such rounds (the client's answer is in it too, the same on every commit).
 *
 * Memory is deterministic; CPU is the median of `--runs` rounds and wanders on a loaded machine.
 * Only src/xmpp/engine.ts, liveness/registry.ts, presence/table.ts and time/manual.ts are used, so
 * the script runs unchanged against older commits.
 *
 *   node --expose-gc --import tsx bench/micro/xmpp-session.ts [--n 5000] [--rounds 5] [--json]
 */
import { Duplex } from 'node:stream';
import { pino } from 'pino';
import { PasswordChecker } from '../../src/auth/password-cache.js';
import { makeUserRecord } from '../../src/auth/users.js';
import { validate } from '../../src/config/dsl.js';
import { rootSchema } from '../../src/config/schema/root.js';
import { createLivenessRegistry } from '../../src/liveness/registry.js';
import { createMetrics } from '../../src/metrics.js';
import { createPresenceTable } from '../../src/presence/table.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { ManualScheduler } from '../../src/time/manual.js';
import { createXmppEngine } from '../../src/xmpp/engine.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('run with node --expose-gc --import tsx bench/micro/xmpp-session.ts');
  process.exit(2);
}
const argv = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const N = arg('n', 5_000);
const ROUNDS = arg('rounds', 5);
const DOMAIN = 'bench.example';
const PING_S = 60;

/** A plain in-memory pair without backpressure (both commits' tests had one). */
class End extends Duplex {
  other: End | null = null;
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.other?.push(chunk);
    cb();
  }
}
function pair(): [End, End] {
  const a = new End();
  const b = new End();
  a.other = b;
  b.other = a;
  return [a, b];
}

const turn = () => new Promise<void>((r) => setImmediate(r));
async function settle(cond: () => boolean): Promise<void> {
  while (!cond()) await turn();
}
const heap = () => {
  for (let i = 0; i < 4; i++) gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** One client: answers server pings, counts answers to its own requests. */
class Client {
  answers = 0;
  pings = 0;
  constructor(readonly end: End) {
    end.on('data', (chunk: Buffer) => {
      const s = chunk.toString();
      const ping = /<iq type='get' from='[^']*' to='[^']*' id='([^']+)'><ping/.exec(s);
      if (ping) {
        this.pings++;
        end.write(`<iq type='result' id='${ping[1]}' to='${DOMAIN}'/>`);
      }
      this.answers += (s.match(/<\/stream:features>|<success|<iq [^>]*type=["']result["'][^>]*id=["']b1/g) ?? []).length;
    });
  }
}

async function main(): Promise<void> {
  const config = validate(rootSchema, {
    hosts: { [DOMAIN]: { ping: { ping_interval: PING_S, ping_ack_timeout: 30 }, xmpp: { tls: 'off', allow_plaintext_auth: true, max_connections_per_ip: 0, max_connection_rate_per_ip: 0, auth_failure_delay_ms: 0 } } },
  });
  const scheduler = new ManualScheduler();
  const clock = scheduler.clock;
  const store = createMemoryStore();
  store.users.put(makeUserRecord(DOMAIN, 'u', 'pw', clock, 64));
  const host = config.hosts[DOMAIN]!;
  const liveness = createLivenessRegistry({ clock, scheduler, hosts: { [DOMAIN]: { ...host.ping, mqtt_probe: host.mqtt_probe, xmpp_probe: host.xmpp_probe } }, activityTime: 'turn' });
  const presence = createPresenceTable({ clock, scheduler, liveness, feedSize: 1_000, offlineTtlMs: 3_600_000, maxOffline: 1_000 });
  const deps = { config, dataDir: '/nonexistent', clock, scheduler, logger: pino({ level: 'silent' }), store, liveness, presence, metrics: createMetrics(), passwords: new PasswordChecker(store) };
  let seq = 0;
  const engine = createXmppEngine(deps, { random: () => `r${++seq}` });

  const pairs = Array.from({ length: N }, () => pair());
  const clients = pairs.map(([, c]) => new Client(c));
  const plain = Buffer.from('\u0000u\u0000pw').toString('base64');
  const header = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${DOMAIN}' version='1.0'>`;
  const steps = (i: number) => [
    header,
    `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain}</auth>`,
    header,
    `<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r${i}</resource></bind></iq>`,
  ];
  const before = heap();
  for (let i = 0; i < N; i++) {
    const [server, c] = pairs[i]!;
    engine.accept(server, '10.0.0.1');
    const client = clients[i]!;
    for (const [k, step] of steps(i).entries()) {
      c.write(step);
      // features, success, features, bind result: one answer per step
      await settle(() => client.answers > k);
    }
    c.write('<presence/>');
  }
  await settle(() => liveness.size() === N);
  for (let i = 0; i < 10; i++) await turn();
  const perSession = (heap() - before) / N;

  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const want = (r + 1) * N;
    const c0 = cpuMs();
    scheduler.advance(PING_S * 1000);
    await settle(() => clients.reduce((n, c) => n + c.pings, 0) >= want);
    for (let i = 0; i < 5; i++) await turn();
    rounds.push(((cpuMs() - c0) * 1000) / N);
  }
  rounds.sort((a, b) => a - b);
  const pingUs = rounds[Math.floor(rounds.length / 2)]!;
  const alive = liveness.size();
  const result = { n: N, heapBytesPerSession: Math.round(perSession), cpuUsPerPing: Number(pingUs.toFixed(1)), alive };
  if (argv.includes('--json')) console.log(JSON.stringify(result));
  else {
    console.log(`XMPP sessions in process (N=${N}, ${ROUNDS} ping rounds, node ${process.version})`);
    console.log(`  heap per bound session      ${result.heapBytesPerSession} bytes`);
    console.log(`  CPU per ping round trip     ${result.cpuUsPerPing} us (median round)`);
    console.log(`  sessions alive at the end   ${alive} of ${N}`);
  }
  engine.shutdown();
  presence.stop();
  liveness.stop();
}

await main();
