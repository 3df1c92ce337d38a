/**
 * ejabberd (Debian package) as a peer under test: `ejabberdctl foreground` as the ejabberd user
 * from a throw-away config in a temp dir (c2s on a free loopback port without STARTTLS, mod_ping as
 * asked), measured by its beam.smp process. Used by the comparison suite (servers.ts) and by
 * bench/xmpp-ping-precision.ts.
 *
 * Accounts (`auth: 'scram'`, the default) are real: `auth_password_format: scram` with
 * `auth_scram_hash: sha256` and ejabberd's 4096 iterations, so a SASL PLAIN login pays the same
 * PBKDF2 as Vigil's (SCRAM-SHA-256, 4096 iterations). They are made before anything is measured
 * and fast: ejabberd registers u0 itself (`ejabberdctl register`), its Mnesia `passwd` record is
 * dumped (`dump_table`), copied under the names u1..u{n-1} and loaded in one call (`load`). One
 * credential under every name, as Vigil's store is seeded (the salt does not depend on the name).
 * That takes a few seconds (three ejabberdctl calls of 0.5-1 s each and the load: 0.2 s per 1,000
 * accounts), against 0.5-1 s per account with one `ejabberdctl register` each.
 * `auth: 'anonymous'` keeps the old shortcut: `anonymous_protocol: login_anon`, any name and
 * password, no password check at all.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { commOf, descendants, dpkgVersion, freePort, sleep, spawnTracked, stopTracked, waitForPort } from './proc.js';

export type XmppAuth = 'scram' | 'anonymous';

/** PBKDF2 iterations of every XMPP account in the suite, Vigil's and ejabberd's (ejabberd's own default). */
export const SCRAM_ITERATIONS = 4096;

export interface EjabberdOptions {
  domain: string;
  /** Accounts u0..u{n-1} with `password` (auth 'scram'); 0 = none. */
  users: number;
  password: string;
  auth: XmppAuth;
  pingInterval: number;
  pingAckTimeout: number;
}

export interface RunningEjabberd {
  label: string;
  /** beam.smp, the process that does the work. */
  pid: number;
  port: number;
  /** How a login is checked, for the tables' notes. */
  auth: string;
  /** Time spent making the accounts (not measured by any scenario). */
  registerMs: number;
  stop(): Promise<void>;
}

const exec = promisify(execFile);

export function authText(auth: XmppAuth): string {
  return auth === 'scram'
    ? `SASL PLAIN checked against SCRAM-SHA-256 credentials, ${SCRAM_ITERATIONS} iterations (auth_password_format: scram, auth_scram_hash: sha256, Mnesia)`
    : 'anonymous_protocol: login_anon (any name and password, no password check)';
}

function config(o: EjabberdOptions, port: number): string {
  const auth =
    o.auth === 'scram'
      ? ['auth_method: [internal]', 'auth_password_format: scram', 'auth_scram_hash: sha256']
      : ['auth_method: [anonymous]', 'anonymous_protocol: login_anon', 'allow_multiple_connections: true'];
  return [
    `hosts: [${o.domain}]`,
    'loglevel: warning',
    ...auth,
    'listen:',
    // backlog: the default (5) drops SYNs of 100 logins in flight; the client then waits for TCP retransmits.
    `  - {port: ${port}, ip: "127.0.0.1", module: ejabberd_c2s, max_stanza_size: 65536, access: all, starttls: false, backlog: 4096}`,
    'access_rules: {c2s: {allow: all}}',
    'modules:',
    '  mod_disco: {}',
    '  mod_roster: {}',
    // XEP-0198 for the xmpp-ping `<r/>` row (ejabberd 23.01 still probes those sessions with XEP-0199).
    '  mod_stream_mgmt: {}',
    `  mod_ping: {send_pings: true, ping_interval: ${o.pingInterval}, ping_ack_timeout: ${o.pingAckTimeout}, timeout_action: kill}`,
    '',
  ].join('\n');
}

/**
 * The text for `ejabberdctl load` with accounts u0..u{users-1}, from ejabberd's `dump_table passwd`
 * of u0 alone: its record copied under every other name. Throws unless that record is
 * SCRAM-SHA-256 with SCRAM_ITERATIONS (the cost must match Vigil's).
 */
export function passwdLoadText(dump: string, users: number): string {
  const nl = dump.indexOf('\n');
  // {tables,[{passwd,...}]}.  then  {passwd,{<<"u0">>,<<"DOMAIN">>},{scram,<<"StoredKey">>,<<"ServerKey">>,<<"Salt">>,sha256,4096}}.
  const record = dump.slice(nl + 1).replace(/\s+/g, '');
  const u0 = '{passwd,{<<"u0">>,';
  if (nl < 0 || !record.startsWith(u0) || !record.endsWith(`,sha256,${SCRAM_ITERATIONS}}}.`) || record.indexOf('}}.') !== record.length - 3) {
    throw new Error(`unexpected passwd dump from ejabberd: ${record.slice(0, 200)}`);
  }
  const lines = [dump.slice(0, nl)];
  for (let i = 0; i < users; i++) lines.push(`{passwd,{<<"u${i}">>,${record.slice(u0.length)}`);
  return `${lines.join('\n')}\n`;
}

/** Accounts u0..u{n-1}: ejabberd makes u0's record, the dump of it is copied and loaded in one call. */
async function makeAccounts(ctl: (...args: string[]) => Promise<unknown>, dir: string, own: (p: string) => void, o: EjabberdOptions): Promise<void> {
  // The c2s port is open, so ejabberd is nearly up; `ejabberdctl started` would cost another call.
  for (let i = 0; ; i++) {
    try {
      await ctl('register', 'u0', o.domain, o.password);
      break;
    } catch (e) {
      if (i >= 20) throw e;
      await sleep(250);
    }
  }
  const dump = join(dir, 'db', 'passwd-u0.txt');
  await ctl('dump_table', dump, 'passwd');
  const all = join(dir, 'db', 'passwd-all.txt');
  writeFileSync(all, passwdLoadText(readFileSync(dump, 'utf8'), o.users));
  own(all);
  await ctl('load', all);
}

export async function startEjabberd(o: EjabberdOptions): Promise<RunningEjabberd> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-ejabberd-'));
  const port = await freePort();
  for (const d of ['conf', 'db', 'logs']) mkdirSync(join(dir, d));
  copyFileSync('/etc/ejabberd/inetrc', join(dir, 'conf', 'inetrc'));
  writeFileSync(join(dir, 'conf', 'ejabberdctl.cfg'), 'ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"\n');
  writeFileSync(join(dir, 'conf', 'ejabberd.yml'), config(o, port));
  const uid = Number(execFileSync('id', ['-u', 'ejabberd'], { encoding: 'utf8' }));
  const gid = Number(execFileSync('id', ['-g', 'ejabberd'], { encoding: 'utf8' }));
  const own = (p: string) => chownSync(p, uid, gid);
  for (const f of ['', 'conf', 'db', 'logs', 'conf/inetrc', 'conf/ejabberdctl.cfg', 'conf/ejabberd.yml']) own(join(dir, f));
  const node = `vigilsuite${process.pid}${port}@localhost`;
  const ctlArgs = ['ejabberdctl', '--config-dir', join(dir, 'conf'), '--logs', join(dir, 'logs'), '--spool', join(dir, 'db'), '--node', node];
  // runuser's PAM session lowers the soft file limit to 1024: raise it to the hard limit (20,000
  // here, what Vigil and the other peers get) before exec'ing ejabberdctl.
  const child = spawnTracked('runuser', ['-u', 'ejabberd', '--', 'sh', '-c', 'ulimit -n "$(ulimit -Hn)" && exec "$@"', 'sh', ...ctlArgs, 'foreground'], { cwd: dir });
  child.stdout?.resume();
  child.stderr?.resume();
  const ctl = (...args: string[]) => exec('runuser', ['-u', 'ejabberd', '--', ...ctlArgs, ...args], { cwd: dir });
  const stop = async () => {
    // SIGKILL 0.2 s after SIGTERM: a graceful stop takes ~2 s and its Mnesia files are thrown away.
    await stopTracked(child, 200);
    if (process.env.VIGIL_BENCH_KEEP) console.log(`  ejabberd files kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };
  let registerMs = 0;
  try {
    await waitForPort(port, 60_000);
    if (o.auth === 'scram' && o.users > 0) {
      const t0 = performance.now();
      await makeAccounts(ctl, dir, own, o);
      registerMs = performance.now() - t0;
      console.log(`  ejabberd: ${o.users} SCRAM-SHA-256 accounts (${SCRAM_ITERATIONS} iterations) made in ${(registerMs / 1000).toFixed(1)} s (not measured)`);
    }
  } catch (e) {
    await stop();
    throw e;
  }
  const beam = descendants(child.pid ?? 0).find((p) => commOf(p).startsWith('beam'));
  if (beam === undefined) {
    await stop();
    throw new Error('ejabberd started but no beam.smp process found under it');
  }
  return { label: `ejabberd ${dpkgVersion('ejabberd')}`, pid: beam, port, auth: authText(o.auth), registerMs, stop };
}
