/**
 * keepalive: 200 MQTT 3.1.1 clients connect, one every 7 ms (--quick: 100, 3 ms apart), with Keep
 * Alive 2 s and then send nothing; the broker must close each 1.5 x 2 = 3 s after its last packet
 * [MQTT-3.1.2-24]. Per client, the time from writing CONNECT (its last packet) to the end of its
 * socket; min/median/max and how many fall within 3.00-3.05 s.
 * The generator's own share: one worker process holds all clients, stamps each just before its
 * CONNECT write and is otherwise idle while the closes come (connecting ends ~1.5 s before the
 * first close is due). A 1 ms timer in the worker tells, for each close, how long the worker had
 * not run when it saw the FIN (the machine is shared: it may not get a core at once); the table
 * shows the largest such gap and the max close time with each client's gap taken off (a lower
 * bound: the FIN came at most that much earlier). The worker runs at nice -10 (as root) so that it
 * gets a core at once when a FIN arrives.
 */
import { setPriority } from 'node:os';
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
      // The worker runs at a higher priority (root only; best effort) so that on a shared machine
      // it gets a core as soon as a FIN arrives; it needs little CPU.
      for (const pid of gen.pids) {
        try {
          setPriority(pid, -10);
        } catch {
          /* not root: normal priority */
        }
      }
      await gen.loopProbe(true);
      const put = (row: string, unit: string, value: number) => record({ scenario: SCENARIO, row, unit, server: server.kind, label: server.label, value });
      // One connect every 7 ms: the deadlines are spread as a real fleet's are, and the time a
      // burst of simultaneous CONNECTs waits in the server's queue does not count as close time.
      const done = await gen.mqttConnect(server.mqttPort ?? 0, n, 2, 'ka', 1, opts.quick ? 3 : 7);
      const cpu0 = await gen.stats();
      const t0 = performance.now();
      for (let i = 0; i < 150; i++) {
        await sleep(100);
        if ((await gen.stats()).open === 0) break;
      }
      const cpuPct = (((await gen.stats()).cpuMs - cpu0.cpuMs) / (performance.now() - t0)) * 100;
      const all = await gen.closes();
      const closes = all.map((c) => c.after);
      if (closes.length < done.ok) note(SCENARIO, `${server.label}: ${done.ok - closes.length} of ${done.ok} clients still open after 15 s`);
      put('close time min', 's', quantile(closes, 0) / 1000);
      put('close time median', 's', quantile(closes, 0.5) / 1000);
      put('close time max', 's', Math.max(...closes) / 1000);
      put('clients closed within 3.00-3.05 s', '%', (closes.filter((c) => c >= 3000 && c <= 3050).length / n) * 100);
      put('generator CPU while the closes came', '% of a core', cpuPct);
      put('generator: largest loop gap at a close', 'ms', Math.max(...all.map((c) => c.gap)));
      put('close time max, generator gap taken off', 's', Math.max(...all.map((c) => c.after - Math.max(0, c.gap))) / 1000);
    } finally {
      await gen.closeAll();
      await gen.stop();
    }
  });
  console.log(`\n${table(SCENARIO)}\n`);
}
