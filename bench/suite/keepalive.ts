/**
 * keepalive: 200 MQTT 3.1.1 clients connect, one every 7 ms (--quick: 100, 3 ms apart), with Keep
 * Alive 2 s and then send nothing; the broker must close each 1.5 x 2 = 3 s after its last packet
 * [MQTT-3.1.2-24]. Per client, the time from writing CONNECT (its last packet) to the end of its
 * socket; min/median/max and how many fall within 3.00-3.05 s.
 */
import { eachServer, parseOptions, quantile } from './common.js';
import { Generator } from './generator.js';
import { sleep } from './proc.js';
import { note, record, table } from './report.js';

export const describe = 'MQTT clients with Keep Alive 2 s go silent: close time after the last packet, goal 3.00-3.05 s (Vigil, Aedes, Mosquitto)';
const SCENARIO = 'keepalive';

export async function run(args: string[]): Promise<void> {
  const opts = parseOptions(args);
  const n = opts.n?.[0] ?? (opts.quick ? 100 : 200);
  await eachServer(SCENARIO, ['vigil', 'aedes', 'mosquitto'], opts, {}, async (server) => {
    const gen = await Generator.start(n);
    try {
      const put = (row: string, unit: string, value: number) => record({ scenario: SCENARIO, row, unit, server: server.kind, label: server.label, value });
      // One connect every 7 ms: the deadlines are spread as a real fleet's are, and the time a
      // burst of simultaneous CONNECTs waits in the server's queue does not count as close time.
      const done = await gen.mqttConnect(server.mqttPort ?? 0, n, 2, 'ka', 1, opts.quick ? 3 : 7);
      for (let i = 0; i < 150; i++) {
        await sleep(100);
        if ((await gen.stats()).open === 0) break;
      }
      const closes = await gen.closes();
      if (closes.length < done.ok) note(SCENARIO, `${server.label}: ${done.ok - closes.length} of ${done.ok} clients still open after 15 s`);
      put('close time min', 's', quantile(closes, 0) / 1000);
      put('close time median', 's', quantile(closes, 0.5) / 1000);
      put('close time max', 's', Math.max(...closes) / 1000);
      put('clients closed within 3.00-3.05 s', '%', (closes.filter((c) => c >= 3000 && c <= 3050).length / n) * 100);
    } finally {
      await gen.closeAll();
      await gen.stop();
    }
  });
  console.log(`\n${table(SCENARIO)}\n`);
}
