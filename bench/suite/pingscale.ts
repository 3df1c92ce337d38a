/**
 * pingscale: N MQTT clients (Keep Alive 60 s) each send PINGREQ every 10 s and then every 2 s,
 * spread evenly over the interval. Figures over a measurement window after one warm-up interval:
 * server CPU %, server CPU per PINGREQ answered (us), PINGRESPs/s, and the generator's CPU.
 * The node-floor column (bench/suite/node-floor-server.mjs) is the least any Node.js broker spends.
 */
import { eachServer, mqttServersWithFloor, parseOptions, sampleWindow } from './common.js';
import { Generator } from './generator.js';
import { sleep } from './proc.js';
import { note, record, table } from './report.js';

export const describe = 'N MQTT clients send PINGREQ every 10 s and every 2 s: server CPU % and CPU per ping (Vigil, Aedes, Mosquitto, the node-floor)';
const SCENARIO = 'pingscale';

export async function run(args: string[]): Promise<void> {
  const opts = parseOptions(args);
  const n = opts.n?.[0] ?? (opts.quick ? 1000 : 19_500);
  const windowS = opts.window ?? (opts.quick ? 2 : 20);
  await eachServer(SCENARIO, mqttServersWithFloor(opts), opts, {}, async (server) => {
    const gen = await Generator.start(n, n > 2000 ? 2 : 1);
    try {
      const done = await gen.mqttConnect(server.mqttPort ?? 0, n, 60, 'ping');
      if (done.failed) note(SCENARIO, `${server.label}: ${done.failed} of ${n} connects failed`);
      await sleep(opts.quick ? 500 : 2000);
      for (const intervalS of opts.quick ? [2] : [10, 2]) {
        const put = (row: string, unit: string, value: number) => record({ scenario: SCENARIO, row: `N=${n}, every ${intervalS} s: ${row}`, unit, server: server.kind, label: server.label, value });
        await gen.pingStart(intervalS * 1000);
        await sleep(Math.min(intervalS, 2) * 1000); // warm-up
        const w = await sampleWindow(gen, server.pid, windowS);
        await gen.pingStop();
        put('PINGRESP/s', '1/s', (w.pongs / w.ms) * 1000);
        put('server CPU', '% of a core', (w.serverCpuMs / w.ms) * 100);
        put('server CPU per ping', 'us', (w.serverCpuMs * 1000) / w.pongs);
        put('of which in the kernel', 'us', (w.serverSysMs * 1000) / w.pongs);
        put('generator CPU', '% of a core', (w.generatorCpuMs / w.ms) * 100);
        if (w.open < done.ok) note(SCENARIO, `${server.label}: ${done.ok - w.open} clients closed by the server`);
        await sleep(1000);
      }
    } finally {
      await gen.closeAll();
      await gen.stop();
    }
  });
  console.log(`\n${table(SCENARIO)}\n`);
}
