/**
 * xmpp-idle and xmpp-ping: XMPP c2s sessions logged in over loopback (SASL PLAIN on a plain stream,
 * resource bind, initial presence), Vigil against ejabberd.
 * - xmpp-idle: N sessions, no server pings while measured (ping_interval 3600): logins/s, server
 *   CPU per login, RSS per session 5 s after the last login.
 * - xmpp-ping: ping_interval 5 s, ping_ack_timeout 3 s, timeout_action kill. N sessions answer every
 *   XEP-0199 ping: server CPU per ping round trip over a window, RSS per session after answering;
 *   then 100 silent sessions: kill time after the last stanza against the goal 5 + 3 = 8 s.
 * Both servers check every login's password against a SCRAM-SHA-256 credential with 4096
 * iterations (one PBKDF2 per PLAIN login); a note under each table says so. `--ejabberd-auth
 * anonymous` logs in to ejabberd with login_anon instead (no password check: cheaper logins).
 */
import { eachServer, measured, parseOptions, quantile, sampleWindow } from './common.js';
import { Generator } from './generator.js';
import { procSample, sleep } from './proc.js';
import { note, record, table } from './report.js';
import { DOMAIN, PASSWORD, type RunningServer } from './servers.js';

const PING_INTERVAL = 5;
const PING_ACK = 3;
const SILENT = 100;

/** The note under the table saying how this server checked the logins. */
function authNote(scenario: string, server: RunningServer): void {
  if (server.xmppAuth) note(scenario, `${server.label} logins: ${server.xmppAuth}`);
}

async function idle(args: string[]): Promise<void> {
  const SCENARIO = 'xmpp-idle';
  const opts = parseOptions(args);
  const n = opts.n?.[0] ?? (opts.quick ? 300 : 10_000);
  await eachServer(SCENARIO, ['vigil', 'ejabberd'], opts, { xmppUsers: n }, async (server) => {
    authNote(SCENARIO, server);
    const gen = await Generator.start(n, n > 2000 ? 2 : 1);
    try {
      const put = (row: string, unit: string, value: number) => record({ scenario: SCENARIO, row: `N=${n}: ${row}`, unit, server: server.kind, label: server.label, value });
      const base = procSample(server.pid);
      const g0 = (await gen.stats()).cpuMs;
      const m = await measured(server.pid, () => gen.xmppLogin(server.xmppPort ?? 0, n, DOMAIN, PASSWORD, true));
      const g1 = (await gen.stats()).cpuMs;
      const { ok, failed, ms } = m.result;
      if (failed) note(SCENARIO, `${server.label}: ${failed} of ${n} logins failed`);
      put('logins/s', '1/s', (ok / ms) * 1000);
      put('server CPU per login', 'us', (m.cpuMs * 1000) / ok);
      put('of which in the kernel', 'us', (m.sysMs * 1000) / ok);
      put('generator CPU while logging in', '% of a core', ((g1 - g0) / ms) * 100);
      await sleep(5000);
      put('RSS per session after 5 s', 'KB', (procSample(server.pid).rssKb - base.rssKb) / ok);
      put('server RSS at start', 'MB', base.rssKb / 1024);
    } finally {
      await gen.closeAll();
      await gen.stop();
    }
  });
  console.log(`\n${table(SCENARIO)}\n`);
}

type Put = (row: string, unit: string, value: number) => void;

/**
 * N sessions that answer every probe, over one window: XEP-0199 pings, or with `sm` XEP-0198
 * sessions whose probe is `<r/>` answered by `<a/>` (on a server that still pings them, such as
 * ejabberd 23.01, the answers are XEP-0199 ones).
 */
async function answering(server: RunningServer, n: number, windowS: number, quick: boolean, sm: boolean, put: Put): Promise<void> {
  const gen = await Generator.start(n, n > 2000 ? 2 : 1);
  const what = sm ? `N=${n} with XEP-0198 (<r/>)` : `N=${n} answering`;
  const probe = sm ? 'probe' : 'ping'; // the XEP-0199 rows keep the names earlier runs recorded
  try {
    const base = procSample(server.pid);
    const done = await gen.xmppLogin(server.xmppPort ?? 0, n, DOMAIN, PASSWORD, true, 100, sm);
    if (done.failed) note('xmpp-ping', `${server.label}: ${done.failed} of ${n} logins failed`);
    // Full runs start the window once every session has had its first probe; --quick measures the
    // first probe round of all sessions (window 5.5 s right after the logins, which take < 2 s).
    if (!quick) await sleep((PING_INTERVAL + 1) * 1000);
    const w = await sampleWindow(gen, server.pid, windowS);
    put(`${what}: ${probe} round trips/s`, '1/s', (w.pongs / w.ms) * 1000);
    put(`${what}: server CPU per ${probe} round trip`, 'us', (w.serverCpuMs * 1000) / w.pongs);
    put(`${what}: of which in the kernel`, 'us', (w.serverSysMs * 1000) / w.pongs);
    put(`${what}: RSS per session after answering ${probe}s`, 'KB', (w.serverRssKb - base.rssKb) / done.ok);
    put(`${what}: generator CPU`, '% of a core', (w.generatorCpuMs / w.ms) * 100);
    if (w.open < done.ok) note('xmpp-ping', `${server.label}: ${done.ok - w.open} ${sm ? 'stream-managed' : 'answering'} sessions were closed by the server`);
  } finally {
    await gen.closeAll();
    await gen.stop();
  }
}

async function ping(args: string[]): Promise<void> {
  const SCENARIO = 'xmpp-ping';
  const opts = parseOptions(args);
  const n = opts.n?.[0] ?? (opts.quick ? 300 : 5_000);
  const windowS = opts.window ?? (opts.quick ? 5.5 : 20); // whole ping intervals: sessions logged in together are pinged together
  await eachServer(SCENARIO, ['vigil', 'ejabberd'], opts, { xmppUsers: n + SILENT, pingInterval: PING_INTERVAL, pingAckTimeout: PING_ACK }, async (server) => {
    authNote(SCENARIO, server);
    const put = (row: string, unit: string, value: number) => record({ scenario: SCENARIO, row, unit, server: server.kind, label: server.label, value });
    for (const sm of [false, true]) await answering(server, n, windowS, opts.quick === true, sm, put);
    await sleep(opts.quick ? 300 : 1000);
    const silent = await Generator.start(SILENT);
    try {
      const done = await silent.xmppLogin(server.xmppPort ?? 0, SILENT, DOMAIN, PASSWORD, false);
      const goal = (PING_INTERVAL + PING_ACK) * 1000;
      for (let i = 0; i < (goal + 5000) / 100; i++) {
        await sleep(100);
        if ((await silent.stats()).open === 0) break;
      }
      const kills = (await silent.closes()).map((c) => c.after);
      if (kills.length < done.ok) note(SCENARIO, `${server.label}: ${done.ok - kills.length} of ${done.ok} silent sessions still open 5 s after the goal`);
      put(`${SILENT} silent: kill time min (goal ${goal / 1000} s)`, 's', quantile(kills, 0) / 1000);
      put(`${SILENT} silent: kill time median`, 's', quantile(kills, 0.5) / 1000);
      put(`${SILENT} silent: kill time max`, 's', Math.max(...kills) / 1000);
    } finally {
      await silent.closeAll();
      await silent.stop();
    }
  });
  console.log(`\n${table(SCENARIO)}\n`);
}

export const xmppIdle = {
  describe: 'N idle XMPP sessions (SASL PLAIN, bind, presence): logins/s, server CPU per login, RSS per session (Vigil, ejabberd)',
  run: idle,
};

export const xmppPing = {
  describe: 'XMPP sessions with ping_interval 5: server CPU per ping round trip, RSS after pings; silent sessions killed at 5 + 3 s (Vigil, ejabberd)',
  run: ping,
};
