/**
 * Benchmark runner: `npm run bench` runs every scenario, `npm run bench -- NAME [args]` one.
 *
 * A scenario is a module with `run(args)` that prints its own table; add yours to `scenarios`.
 * Heap figures need `global.gc`, so the runner re-spawns itself once under `node --expose-gc`
 * (same tsx loader flags) when it was started without it.
 */
import { spawnSync } from 'node:child_process';
import * as liveness from './liveness.js';
import * as mqttBroker from './mqtt-broker.js';
import * as mqttKeepalive from './mqtt-keepalive-precision.js';
import * as rest from './rest-endpoints.js';
import * as xmppPingPrecision from './xmpp-ping-precision.js';

export interface Scenario {
  /** One-line description for the scenario list. */
  readonly describe: string;
  run(args: string[]): Promise<void>;
}

const scenarios: Record<string, Scenario> = { liveness, rest, 'xmpp-ping-precision': xmppPingPrecision, 'mqtt-keepalive': mqttKeepalive, 'mqtt-broker': mqttBroker };

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
  if (name === undefined) {
    for (const [n, s] of Object.entries(scenarios)) {
      console.log(`\n## ${n}: ${s.describe}\n`);
      await s.run([]);
    }
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
