/**
 * Real gateways for the end-to-end tests, each started by the test on a free loopback port with a
 * temporary directory and stopped by PID (its process group), never a system service:
 *   - Aedes (npm) as its own node process (bench/suite/aedes-server.mjs), $SYS heartbeat shortened;
 *   - Debian's mosquitto 2.0 from a throw-away config (sys_interval 1: `$SYS/broker/uptime` each s);
 *   - Debian's ejabberd as a plain `erl` process (no ejabberdctl, no epmd: a node without a name),
 *     its config, Mnesia spool and logs in the temp dir, c2s and mod_http_api on loopback.
 * Plus the Vigil app itself with a gateways config and a memory store.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { freePort, spawnTracked, stopTracked, waitForLine, waitForPort } from '../../bench/suite/proc.js';
import { type App, createApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { createMemoryStore } from '../../src/store/memory.js';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface Running {
  port: number;
  pid: number;
  /** SIGTERM (SIGKILL after graceMs) the process group; removes the temp dir. */
  stop(graceMs?: number): Promise<void>;
  /** Send a signal to the process group (SIGSTOP / SIGCONT / SIGKILL). */
  signal(sig: NodeJS.Signals): void;
}

function running(child: ReturnType<typeof spawnTracked>, port: number, dir: string | null): Running {
  return {
    port,
    pid: child.pid ?? 0,
    async stop(graceMs = 2_000) {
      await stopTracked(child, graceMs);
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
    signal(sig) {
      try {
        process.kill(-(child.pid ?? 0), sig);
      } catch {
        /* gone */
      }
    },
  };
}

export async function startAedes(port?: number, heartbeatMs = 60_000): Promise<Running> {
  const p = port ?? (await freePort());
  const child = spawnTracked(process.execPath, [join(ROOT, 'bench/suite/aedes-server.mjs'), String(p), String(heartbeatMs)], { cwd: ROOT });
  await waitForLine(child, /aedes_ready/, 10_000);
  return running(child, p, null);
}

/** Mosquitto; with `tls`, the listener speaks TLS with that certificate and wants `user`/`password`. */
export async function startMosquitto(tls: { certPath: string; keyPath: string; user: string; password: string } | null = null): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-mosquitto-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  const auth = tls ? [`certfile ${tls.certPath}`, `keyfile ${tls.keyPath}`, 'allow_anonymous false', `password_file ${join(dir, 'passwd')}`] : ['allow_anonymous true'];
  if (tls) execFileSync('mosquitto_passwd', ['-b', '-c', join(dir, 'passwd'), tls.user, tls.password]);
  // `user root`: read the test's files as the user that wrote them (mosquitto drops to `mosquitto` otherwise).
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, ...auth, 'user root', 'sys_interval 1', 'persistence false', 'log_dest stderr', ''].join('\n'));
  const child = spawnTracked('mosquitto', ['-c', conf], { cwd: dir });
  child.stdout?.resume();
  await waitForPort(port, 10_000);
  return running(child, port, dir);
}

export interface RunningEjabberd extends Running {
  httpPort: number;
  domain: string;
  /** POST {api}/{command} from loopback without credentials (api_permissions "bootstrap": register only). */
  bootstrap(command: string, body: unknown): Promise<unknown>;
}

/** ejabberd with c2s (no STARTTLS, loopback only) and mod_http_api; `vigil@<domain>` may call connected_users_info and kick_session. */
export async function startEjabberd(domain = 'localhost'): Promise<RunningEjabberd> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-ejabberd-gw-'));
  const [port, httpPort] = [await freePort(), await freePort()];
  for (const d of ['db', 'logs']) mkdirSync(join(dir, d));
  copyFileSync('/etc/ejabberd/inetrc', join(dir, 'inetrc'));
  writeFileSync(
    join(dir, 'ejabberd.yml'),
    [
      `hosts: [${domain}]`,
      'loglevel: warning',
      'auth_method: [internal]',
      'listen:',
      `  - {port: ${port}, ip: "127.0.0.1", module: ejabberd_c2s, starttls: false}`,
      `  - {port: ${httpPort}, ip: "127.0.0.1", module: ejabberd_http, request_handlers: {/api: mod_http_api}}`,
      'acl:',
      `  vigil: {user: vigil@${domain}}`,
      'api_permissions:',
      '  "bootstrap": {from: [mod_http_api], who: {ip: 127.0.0.1/8}, what: [register]}',
      '  "vigil": {from: [mod_http_api], who: {acl: vigil}, what: [connected_users_info, kick_session]}',
      'modules:',
      '  mod_http_api: {}',
      '  mod_admin_extra: {}',
      '  mod_disco: {}',
      '  mod_roster: {}',
      '',
    ].join('\n'),
  );
  const child = spawnTracked('erl', ['-noinput', '-noshell', '-mnesia', 'dir', `"${join(dir, 'db')}"`, '-s', 'ejabberd'], {
    cwd: dir,
    env: {
      ...process.env,
      EJABBERD_CONFIG_PATH: join(dir, 'ejabberd.yml'),
      EJABBERD_LOG_PATH: join(dir, 'logs', 'ejabberd.log'),
      ERL_LIBS: '/usr/lib/x86_64-linux-gnu',
      ERL_INETRC: join(dir, 'inetrc'),
      ERL_CRASH_DUMP_BYTES: '0',
    },
  });
  child.stdout?.resume();
  const r = running(child, port, dir);
  try {
    await waitForPort(httpPort, 60_000);
    await waitForPort(port, 10_000);
  } catch (e) {
    await r.stop(200);
    throw e;
  }
  const bootstrap = async (command: string, body: unknown) => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/api/${command}`, { method: 'POST', body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`ejabberd ${command}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  return { ...r, httpPort, domain, bootstrap, stop: (graceMs = 200) => r.stop(graceMs) };
}

/** The Vigil app with these `gateways:` (YAML), one host, HTTP on port 0, no XMPP/MQTT listeners. */
export async function startVigil(gatewaysYaml: string, host = 'localhost'): Promise<App> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-gw-app-'));
  const yaml = [`data_dir: ${dir}`, 'listeners: {http: {host: 127.0.0.1, port: 0}}', `hosts: {${host}: {}}`, 'api: {token: test-token-0123456789}', 'gateways:', gatewaysYaml].join('\n');
  const loaded = parseConfig(yaml, join(dir, 'vigil.yaml'), {});
  const app = createApp({ loaded, logger: pino({ level: 'silent' }), store: createMemoryStore(), xmpp: false, mqtt: false, processMetrics: false });
  await app.start();
  const stop = app.stop.bind(app);
  (app as { stop: () => Promise<void> }).stop = async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  };
  return app;
}
