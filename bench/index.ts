/**
 * Benchmark runner: `npm run bench` runs every scenario, `npm run bench -- NAME [args]` one.
 *
 * A scenario is a module with `run(args)` that prints its own table; add yours to `scenarios`.
 * Heap figures need `global.gc`, so the runner re-spawns itself once under `node --expose-gc`
 * (same tsx loader flags) when it was started without it.
 */
import { spawnSync } from 'node:child_process';
import * as cluster from './cluster.js';
import * as dashboard from './dashboard.js';
import * as liveness from './liveness.js';
import * as mqttBroker from './mqtt-broker.js';
import * as mqttKeepalive from './mqtt-keepalive-precision.js';
import * as mqttSessions from './mqtt-sessions.js';
import * as rest from './rest-endpoints.js';
import * as usersImport from './users-import.js';
import * as connIdle from './suite/conn-idle.js';
import { fanout, p2p } from './suite/flow.js';
import { openLoop } from './suite/open-loop.js';
import * as keepalive from './suite/keepalive.js';
import * as pingscale from './suite/pingscale.js';
import * as transports from './suite/transports.js';
import { resultsFile } from './suite/report.js';
import { xmppIdle, xmppPing } from './suite/xmpp.js';
import * as xmppPingPrecision from './xmpp-ping-precision.js';
import * as xmppResume from './xmpp-resume.js';

export interface Scenario {
  /** One-line description for the scenario list. */
  readonly describe: string;
  run(args: string[]): Promise<void>;
}

const scenarios: Record<string, Scenario> = { liveness, rest, 'xmpp-ping-precision': xmppPingPrecision, 'mqtt-keepalive': mqttKeepalive, 'mqtt-broker': mqttBroker };
scenarios['mqtt-sessions'] = mqttSessions;
scenarios.cluster = cluster;
scenarios['users-import'] = usersImport;
scenarios['xmpp-resume'] = xmppResume;
scenarios.dashboard = dashboard;
scenarios.transports = transports;

/** The side-by-side suite (Vigil vs Aedes, Mosquitto, ejabberd; bench/suite/), in run order. */
const compare: Record<string, Scenario> = {
  'conn-idle': connIdle,
  p2p,
  fanout,
  'open-loop': openLoop,
  keepalive,
  pingscale,
  'xmpp-idle': xmppIdle,
  'xmpp-ping': xmppPing,
};
Object.assign(scenarios, compare);

async function runAll(group: Record<string, Scenario>, args: string[]): Promise<void> {
  for (const [n, s] of Object.entries(group)) {
    console.log(`\n## ${n}: ${s.describe}\n`);
    const t0 = Date.now();
    await s.run(args);
    console.log(`(${n}: ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
}

function respawnWithGc(): never {
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', '--max-old-space-size=6144', ...process.execArgv, ...process.argv.slice(1)],
    { stdio: 'inherit', env: { ...process.env, VIGIL_BENCH_CHILD: '1' } },
  );
  process.exit(child.status ?? 1);
}

async function main(argv: string[]): Promise<void> {
  if (typeof globalThis.gc !== 'function' && process.env.VIGIL_BENCH_CHILD !== '1') respawnWithGc();
  const [name, ...args] = argv;
  // `npm run bench [-- --quick]`: every scenario (options go to each); `npm run bench -- compare
  // [--quick]`: only the side-by-side suite (--quick: under 3 minutes, for smoke use).
  if (name === undefined || name.startsWith('--')) {
    await runAll(scenarios, argv);
    console.log(`\nraw figures: ${resultsFile()}`);
    return;
  }
  if (name === 'compare') {
    await runAll(compare, args);
    console.log(`\nraw figures: ${resultsFile()}`);
    return;
  }
  const scenario = scenarios[name];
  if (!scenario) {
    console.error(`unknown scenario "${name}"; known: ${Object.keys(scenarios).join(', ')}`);
    process.exit(2);
  }
  await scenario.run(args);
}

await main(process.argv.slice(2));
