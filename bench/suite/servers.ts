/**
 * The servers under test, each started as its own process from a configuration generated into a
 * temporary directory, bound to free loopback ports, and measured by the PID that does the work
 * (Vigil, Aedes and node-floor: the node process; Mosquitto: mosquitto; ejabberd: beam.smp under
 * runuser). node-floor is not a broker: the least a Node.js socket server does per CONNECT and
 * PINGREQ (bench/suite/node-floor-server.mjs), the floor under any broker on Node.
 * Peers that are not installed are reported as absent with a note, never as a failure.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeUserRecord } from '../../src/auth/users.js';
import { listenersSchema } from '../../src/config/schema/listeners.js';
import { mqttSchema } from '../../src/config/schema/mqtt.js';
import { xmppSchema } from '../../src/config/schema/xmpp.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { systemClock } from '../../src/time/clock.js';
import { SCRAM_ITERATIONS, startEjabberd, type XmppAuth } from './ejabberd.js';
import { dpkgVersion, freePort, spawnTracked, stopTracked, waitForLine, waitForPort } from './proc.js';

export const DOMAIN = 'bench.example';
export const PASSWORD = 'pw';
const ROOT = new URL('../..', import.meta.url).pathname;
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

export type ServerKind = 'vigil' | 'aedes' | 'mosquitto' | 'ejabberd' | 'node-floor';

export interface PingOptions {
  /** Server ping interval in s (XMPP); large = no pings while measured. */
  pingInterval: number;
  pingAckTimeout: number;
}

export interface StartOptions extends Partial<PingOptions> {
  /** XMPP accounts u0..u{n-1} with password PASSWORD (Vigil seeds its store, ejabberd loads them; see ejabberd.ts). */
  xmppUsers?: number;
  /** ejabberd's logins: real SCRAM accounts (default) or `login_anon` (no password check). */
  xmppAuth?: XmppAuth;
  /** Run Vigil compiled (plain node, as `vigil serve` runs after `npm run build`) instead of under tsx. */
  compiled?: boolean;
  /** Start Vigil under `node --cpu-prof` writing into this directory (written when it stops). */
  cpuProfDir?: string | undefined;
  /** More node flags for the Vigil process (e.g. --heapsnapshot-signal=SIGUSR2). */
  nodeFlags?: string[];
  /** Also serve MQTT over TLS and over WebSocket (issue 14; Mosquitto: TLS, and WebSocket when built with it). */
  transports?: boolean;
  /** More `mqtt.*` options of Vigil's host (e.g. { max_inflight: 64 }). */
  vigilMqtt?: Record<string, number>;
}

export interface RunningServer {
  kind: ServerKind;
  /** Name and version for the tables. */
  label: string;
  /** The process whose CPU and RSS are measured. */
  pid: number;
  mqttPort?: number;
  /** MQTT over TLS and over WebSocket (path /mqtt), with `transports`. */
  mqttTlsPort?: number;
  mqttWsPort?: number;
  xmppPort?: number;
  /** How an XMPP login is checked, for the tables' notes. */
  xmppAuth?: string;
  stop(): Promise<void>;
}

/** Why a peer cannot run here, or null when it can. */
export function absentReason(kind: ServerKind): string | null {
  if (kind === 'mosquitto' && !existsSync('/usr/sbin/mosquitto')) return 'mosquitto not installed (apt-get install mosquitto)';
  if (kind === 'ejabberd') {
    if (!existsSync('/usr/sbin/ejabberdctl')) return 'ejabberd not installed (apt-get install ejabberd)';
    if (process.getuid?.() !== 0) return 'ejabberd needs root here (it runs as the ejabberd user via runuser)';
  }
  return null;
}

function seedUsers(dataDir: string, n: number): void {
  mkdirSync(dataDir, { recursive: true });
  const store = openSqliteStore(dataDir);
  try {
    // SCRAM credentials do not depend on the user name: derive once (4096 iterations, the default
    // cost every PLAIN login pays, as ejabberd's) and store the same credential under every name.
    const proto = makeUserRecord(DOMAIN, 'u0', PASSWORD, systemClock, SCRAM_ITERATIONS);
    for (let i = 0; i < n; i++) store.users.put({ ...proto, user: `u${i}` });
  } finally {
    store.close();
  }
}

const DIST = join(ROOT, 'bench/results/vigil-dist');
let compiledEntry: string | null = null;

/**
 * Compile src/ once per run into bench/results/vigil-dist (a private copy: dist/ is shared and may
 * be rebuilt by others meanwhile) and return an entry script that runs its CLI like bin/vigil.js.
 */
function compiledVigil(): string {
  if (compiledEntry) return compiledEntry;
  rmSync(DIST, { recursive: true, force: true });
  console.log('  compiling Vigil (tsc -p tsconfig.build.json) into bench/results/vigil-dist ...');
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', DIST], { cwd: ROOT, stdio: 'pipe' });
  } catch {
    // Type errors still emit JavaScript (noEmitOnError is off); a missing main.js is the real failure.
  }
  if (!existsSync(join(DIST, 'main.js'))) throw new Error('tsc emitted no main.js');
  // The dashboard's assets are found beside dist/ (../web/dashboard/assets): give the private build the same.
  const web = join(DIST, '..', 'web');
  if (!existsSync(web)) symlinkSync(join(ROOT, 'web'), web);
  const entry = join(DIST, 'run.mjs');
  writeFileSync(entry, "import { main } from './main.js';\nmain(process.argv.slice(2)).then((c) => { if (typeof c === 'number') process.exitCode = c; });\n");
  compiledEntry = entry;
  return entry;
}

/**
 * Limits that would refuse the generator's load (connection rate and count per IP, totals) set to 0
 * = off, for the keys the current schema has (unknown keys are configuration errors).
 */
/** The listener-wide connection rate off, when the schema has it (issue 14). */
const rateOff = 'max_conn_rate' in listenersSchema.fields.mqtt.fields ? ', max_conn_rate: 0' : '';

function limitsOff(fields: Record<string, unknown>): string {
  const keys = ['max_connections_per_ip', 'max_connection_rate_per_ip', 'max_connections'];
  return keys.filter((k) => k in fields).map((k) => `, ${k}: 0`).join('');
}

/** A self-signed EC P-256 certificate for localhost in `dir` (the `openssl` command). */
function selfSigned(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'server.crt');
  const key = join(dir, 'server.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  return { cert, key };
}

export async function startVigil(opts: StartOptions = {}): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
  const [mqttPort, xmppPort, httpPort] = [await freePort(), await freePort(), await freePort()];
  const [tlsPort, wsPort] = opts.transports ? [await freePort(), await freePort()] : [0, 0];
  // max_conn_rate 0: the generator opens thousands of connections a second from one address.
  let extra = '';
  if (opts.transports) {
    const c = selfSigned(dir);
    extra = `  mqtts: { host: 127.0.0.1, port: ${tlsPort}, max_conn_rate: 0, tls: { certfile: ${c.cert}, keyfile: ${c.key} } }
  mqtt_ws: { host: 127.0.0.1, port: ${wsPort}, max_conn_rate: 0 }
`;
  }
  const dataDir = join(dir, 'data');
  if (opts.xmppUsers) seedUsers(dataDir, opts.xmppUsers);
  else mkdirSync(dataDir);
  const config = join(dir, 'vigil.yaml');
  writeFileSync(
    config,
    `data_dir: ${dataDir}
listeners:
  xmpp: { host: 127.0.0.1, port: ${xmppPort}${rateOff} }
  mqtt: { host: 127.0.0.1, port: ${mqttPort}${rateOff} }
  http: { host: 127.0.0.1, port: ${httpPort} }
${extra}hosts:
  ${DOMAIN}:
    ping: { send_pings: true, ping_interval: ${opts.pingInterval ?? 3600}, ping_ack_timeout: ${opts.pingAckTimeout ?? 32}, timeout_action: kill }
    mqtt: { allow_anonymous: true${limitsOff(mqttSchema.fields)}${Object.entries(opts.vigilMqtt ?? {}).map(([k, v]) => `, ${k}: ${v}`).join('')} }
    xmpp: { tls: 'off', allow_plaintext_auth: true${limitsOff(xmppSchema.fields)} }
presence: { feed_size: 100000, max_offline: 100000 }
# warn: at info every XMPP login writes one log line (xmpp_auth_ok); the bench measures the protocol path.
log: { level: warn }
`,
  );
  const compiled = opts.compiled ? compiledVigil() : null;
  const prof = [...(opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : []), ...(opts.nodeFlags ?? [])];
  const args = compiled
    ? [...prof, compiled, 'serve', '--config', config]
    : [...prof, '--import', TSX, join(ROOT, 'test/support/run-cli.ts'), 'serve', '--config', config];
  const child = spawnTracked(process.execPath, args, { cwd: dir, env: { ...process.env, VIGIL_API_TOKEN: 'bench-token-0123456789abcdef' } });
  child.stdout?.resume();
  child.stderr?.resume();
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  try {
    await Promise.race([
      Promise.all([waitForPort(mqttPort, 30_000), waitForPort(xmppPort, 30_000)]),
      new Promise((_, reject) => child.once('exit', (c) => reject(new Error(`vigil exited (${c}): ${err}`)))),
    ]);
  } catch (e) {
    await stopTracked(child);
    throw e;
  }
  return {
    kind: 'vigil',
    label: `Vigil${compiled ? '' : ' (tsx)'}`,
    pid: child.pid ?? 0,
    mqttPort,
    ...(opts.transports ? { mqttTlsPort: tlsPort, mqttWsPort: wsPort } : {}),
    xmppPort,
    xmppAuth: `SASL PLAIN checked against SCRAM-SHA-256 credentials, ${SCRAM_ITERATIONS} iterations (its SQLite store)`,
    async stop() {
      await stopTracked(child, 10_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startAedes(): Promise<RunningServer> {
  const port = await freePort();
  const child = spawnTracked(process.execPath, [join(ROOT, 'bench/suite/aedes-server.mjs'), String(port)], { cwd: ROOT });
  await waitForLine(child, /aedes_ready/, 30_000);
  child.stdout?.resume();
  child.stderr?.resume();
  const version = (JSON.parse(execFileSync('cat', [join(ROOT, 'node_modules/aedes/package.json')], { encoding: 'utf8' })) as { version: string }).version;
  return { kind: 'aedes', label: `Aedes ${version}`, pid: child.pid ?? 0, mqttPort: port, stop: () => stopTracked(child) };
}

/** The Node.js floor (bench/suite/node-floor-server.mjs): constant CONNACK and PINGRESP, nothing else. */
export async function startNodeFloor(): Promise<RunningServer> {
  const child = spawnTracked(process.execPath, [join(ROOT, 'bench/suite/node-floor-server.mjs'), '0'], { cwd: ROOT });
  const line = await waitForLine(child, /node_floor_ready \d+/, 30_000);
  child.stdout?.resume();
  child.stderr?.resume();
  const port = Number(/node_floor_ready (\d+)/.exec(line)?.[1]);
  return { kind: 'node-floor', label: `node-floor (Node ${process.versions.node})`, pid: child.pid ?? 0, mqttPort: port, stop: () => stopTracked(child) };
}

/** Whether this mosquitto can open a websockets listener (Debian 12's 2.0.11 is built without). */
export function mosquittoHasWebsockets(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-mosquitto-ws-'));
  try {
    writeFileSync(join(dir, 'm.conf'), 'listener 0 127.0.0.1\nprotocol websockets\nallow_anonymous true\nlog_dest stdout\n');
    execFileSync('timeout', ['1', '/usr/sbin/mosquitto', '-c', join(dir, 'm.conf')], { stdio: 'pipe' });
    return true;
  } catch (e) {
    // Killed by timeout (exit 124) = it was serving; exit 1 = "Unable to start any listening sockets".
    return (e as { status?: number }).status === 124;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startMosquitto(opts: StartOptions = {}): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-mosquitto-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  let extra = '';
  const ports: { mqttTlsPort?: number; mqttWsPort?: number } = {};
  if (opts.transports) {
    const c = selfSigned(dir);
    // Started as root, mosquitto drops to its own user: let it read the throw-away pair.
    chmodSync(dir, 0o755);
    chmodSync(c.key, 0o644);
    ports.mqttTlsPort = await freePort();
    extra += `listener ${ports.mqttTlsPort} 127.0.0.1\ncertfile ${c.cert}\nkeyfile ${c.key}\n`;
    if (mosquittoHasWebsockets()) {
      ports.mqttWsPort = await freePort();
      extra += `listener ${ports.mqttWsPort} 127.0.0.1\nprotocol websockets\n`;
    }
  }
  writeFileSync(conf, `per_listener_settings false\nallow_anonymous true\npersistence false\nlog_dest none\nmax_keepalive 65535\nlistener ${port} 127.0.0.1\n${extra}`);
  const child = spawnTracked('/usr/sbin/mosquitto', ['-c', conf], { cwd: dir });
  child.stdout?.resume();
  child.stderr?.resume();
  await waitForPort(port, 10_000);
  return {
    kind: 'mosquitto',
    label: `Mosquitto ${dpkgVersion('mosquitto')}`,
    pid: child.pid ?? 0,
    mqttPort: port,
    ...ports,
    async stop() {
      await stopTracked(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function ejabberd(opts: StartOptions): Promise<RunningServer> {
  const e = await startEjabberd({
    domain: DOMAIN,
    users: opts.xmppUsers ?? 0,
    password: PASSWORD,
    auth: opts.xmppAuth ?? 'scram',
    pingInterval: opts.pingInterval ?? 3600,
    pingAckTimeout: opts.pingAckTimeout ?? 32,
  });
  return { kind: 'ejabberd', label: e.label, pid: e.pid, xmppPort: e.port, xmppAuth: e.auth, stop: e.stop };
}

export function startServer(kind: ServerKind, opts: StartOptions = {}): Promise<RunningServer> {
  switch (kind) {
    case 'vigil':
      return startVigil(opts);
    case 'aedes':
      return startAedes();
    case 'mosquitto':
      return startMosquitto(opts);
    case 'node-floor':
      return startNodeFloor();
    case 'ejabberd':
      return ejabberd(opts);
  }
}
