/**
 * conn-idle: N idle MQTT 3.1.1 connections (Keep Alive 600 s, clean session, no subscriptions) per
 * broker. Figures: connects/s (the generator opens them with 100 connects in flight per worker),
 * server CPU per connect, RSS per connection (RSS growth / N) 5 s and 60 s after the last CONNACK,
 * (the baseline read after the idle server settled 20 s; quick runs: at once),
 * and the generator's CPU while connecting (near 100 % per worker = the generator is the limit).
 * The node-floor column (bench/suite/node-floor-server.mjs) is the least any Node.js broker spends.
 */
import { eachServer, mqttServersWithFloor, measured, parseOptions } from './common.js';
import { Generator } from './generator.js';
import { procSample, sleep } from './proc.js';
import { note, record, table } from './report.js';

export const describe = 'N idle MQTT connections: RSS/connection after 5 s and 60 s, connects/s, server CPU per connect (Vigil, Aedes, Mosquitto, the node-floor)';
const SCENARIO = 'conn-idle';

export async function run(args: string[]): Promise<void> {
  const opts = parseOptions(args);
  const ns = opts.n ?? (opts.quick ? [1000] : [10_000, 19_500]);
  const idleLong = opts.quick ? 0 : 60;
  const baseSettle = opts.quick ? 0 : 20;
  for (const n of ns) {
    await eachServer(SCENARIO, mqttServersWithFloor(opts), opts, {}, async (server) => {
      const gen = await Generator.start(n, n > 2000 ? 2 : 1);
      try {
        const put = (row: string, unit: string, value: number) => record({ scenario: SCENARIO, row: `N=${n}: ${row}`, unit, server: server.kind, label: server.label, value });
        // The baseline after the server sat idle a while: a V8 server shrinks its young generation
        // and returns start-up garbage some seconds after boot, which would otherwise be subtracted
        // from the connections' RSS (Vigil's 60 s figure once read 0.4 KB, below a bare Node socket).
        if (baseSettle > 0) await sleep(baseSettle * 1000);
        const base = procSample(server.pid);
        const g0 = (await gen.stats()).cpuMs;
        const m = await measured(server.pid, () => gen.mqttConnect(server.mqttPort ?? 0, n, 600, `idle${n}`));
        const g1 = (await gen.stats()).cpuMs;
        const { ok, failed, ms } = m.result;
        if (failed) note(SCENARIO, `${server.label} N=${n}: ${failed} connects failed`);
        put('connects/s', '1/s', (ok / ms) * 1000);
        put('server CPU per connect', 'us', (m.cpuMs * 1000) / ok);
        put('of which in the kernel', 'us', (m.sysMs * 1000) / ok);
        put('generator CPU while connecting', '% of a core', ((g1 - g0) / ms) * 100);
        await sleep(5000);
        put('RSS per connection after 5 s', 'KB', (procSample(server.pid).rssKb - base.rssKb) / ok);
        if (idleLong > 0) {
          await sleep((idleLong - 5) * 1000);
          put(`RSS per connection after ${idleLong} s`, 'KB', (procSample(server.pid).rssKb - base.rssKb) / ok);
        }
        const open = (await gen.stats()).open;
        if (open < ok) note(SCENARIO, `${server.label} N=${n}: ${ok - open} connections closed by the server while idle`);
        put('server RSS at start', 'MB', base.rssKb / 1024);
      } finally {
        await gen.closeAll();
        await gen.stop();
      }
    });
  }
  console.log(`\n${table(SCENARIO)}\n`);
}
