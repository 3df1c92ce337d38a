/**
 * transports (issue 14): what each network transport costs per MQTT connection, Vigil beside
 * Mosquitto in one run. For each of tcp, tls and ws, a fresh server, N idle clients (Keep Alive
 * 600 s) connected over that transport by the generator (tls: TLS 1.3 without a client
 * certificate; ws: subprotocol mqtt at /mqtt, binary messages, no compression), then:
 * RSS per connection 5 s after the last CONNACK, server CPU per connect, and over a window with
 * every client sending PINGREQ every 2 s: server CPU per PINGREQ. Mosquitto's websockets listener
 * is measured when this mosquitto has one (Debian 12's 2.0.11 is built without libwebsockets).
 */
import { eachServer, measured, parseOptions, sampleWindow } from './common.js';
import { Generator } from './generator.js';
import type { Via } from './load-worker.js';
import { procSample, sleep } from './proc.js';
import { note, record, table } from './report.js';
import { mosquittoHasWebsockets, type RunningServer } from './servers.js';

export const describe = 'MQTT over tcp, tls and ws: RSS per idle connection, CPU per connect and per PINGREQ (Vigil, Mosquitto)';
const SCENARIO = 'transports';

const portOf = (s: RunningServer, via: Via) => (via === 'tcp' ? s.mqttPort : via === 'tls' ? s.mqttTlsPort : s.mqttWsPort);

export async function run(args: string[]): Promise<void> {
  const opts = parseOptions(args);
  const n = opts.n?.[0] ?? (opts.quick ? 1000 : 5000);
  const windowS = opts.window ?? (opts.quick ? 4 : 10);
  if (!mosquittoHasWebsockets()) note(SCENARIO, 'Mosquitto ws: this mosquitto has no websockets listener (Debian 12 builds 2.0.11 without libwebsockets)');
  for (const via of ['tcp', 'tls', 'ws'] as const) {
    await eachServer(SCENARIO, ['vigil', 'mosquitto'], opts, { transports: true }, async (server) => {
      const port = portOf(server, via);
      if (port === undefined) return;
      const gen = await Generator.start(n, n > 2000 ? 2 : 1);
      try {
        const put = (row: string, unit: string, value: number) => record({ scenario: SCENARIO, row: `N=${n} over ${via}: ${row}`, unit, server: server.kind, label: server.label, value });
        if (!opts.quick) await sleep(10_000); // a V8 server returns start-up garbage some seconds after boot
        const base = procSample(server.pid);
        const m = await measured(server.pid, () => gen.mqttConnect(port, n, 600, `t${via}`, 100, 0, via));
        const { ok, failed } = m.result;
        if (failed) note(SCENARIO, `${server.label} over ${via}: ${failed} of ${n} connects failed`);
        put('server CPU per connect', 'us', (m.cpuMs * 1000) / ok);
        await sleep(5000);
        put('RSS per connection after 5 s', 'KB', (procSample(server.pid).rssKb - base.rssKb) / ok);
        await gen.pingStart(2000);
        await sleep(2000);
        const w = await sampleWindow(gen, server.pid, windowS);
        await gen.pingStop();
        put('server CPU per PINGREQ (every 2 s)', 'us', (w.serverCpuMs * 1000) / w.pongs);
        put('PINGRESP/s', '1/s', (w.pongs / w.ms) * 1000);
        put('generator CPU', '% of a core', (w.generatorCpuMs / w.ms) * 100);
        if (w.open < ok) note(SCENARIO, `${server.label} over ${via}: ${ok - w.open} clients closed by the server`);
      } finally {
        await gen.closeAll();
        await gen.stop();
      }
    });
  }
  console.log(`\n${table(SCENARIO)}\n`);
}
