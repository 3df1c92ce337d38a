/**
 * Child process for the MQTT broker benchmarks: runs one broker (Vigil's MQTT service composed as in
 * app.ts, or Aedes) on 127.0.0.1:0, reports its port, and answers CPU / memory questions over IPC,
 * so the figures are the broker's alone (the load-generating clients live in the parent).
 *
 *   argv[2] = 'vigil' | 'aedes'
 *   parent -> child: 'mark' (CPU baseline), 'sample' -> { cpuUs, rss, heap }
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { pino } from 'pino';
import { validate } from '../src/config/dsl.js';
import { rootSchema } from '../src/config/schema/root.js';
import { PasswordChecker } from '../src/auth/password-cache.js';
import { createLivenessRegistry } from '../src/liveness/registry.js';
import { createMetrics } from '../src/metrics.js';
import type { MqttDeps } from '../src/mqtt/broker.js';
import { createMqttService } from '../src/mqtt/listener.js';
import { createPresenceTable } from '../src/presence/table.js';
import { createMemoryStore } from '../src/store/memory.js';
import { systemClock } from '../src/time/clock.js';
import { systemScheduler } from '../src/time/scheduler.js';

async function startVigil(): Promise<number> {
  const config = validate(rootSchema, {
    listeners: { mqtt: { host: '127.0.0.1', port: 0, max_conn_rate: 0 } },
    hosts: { 'bench.example': { mqtt: { allow_anonymous: true } } },
  });
  const h = config.hosts['bench.example']!;
  const clock = systemClock;
  const scheduler = systemScheduler;
  const liveness = createLivenessRegistry({ clock, scheduler, hosts: { 'bench.example': { ...h.ping, mqtt_probe: h.mqtt_probe, xmpp_probe: h.xmpp_probe } }, activityTime: 'turn' });
  const presence = createPresenceTable({ clock, scheduler, liveness, feedSize: 100_000, offlineTtlMs: 60_000, maxOffline: 100_000 });
  const store = createMemoryStore();
  const deps: MqttDeps = { config, dataDir: '/nonexistent', clock, scheduler, logger: pino({ level: 'silent' }), store, liveness, presence, metrics: createMetrics(), passwords: new PasswordChecker(store) };
  const service = createMqttService(deps);
  await service.start();
  return service.address()!.port;
}

async function startAedes(): Promise<number> {
  const { Aedes } = (await import('aedes')) as unknown as { Aedes: { createBroker(): Promise<{ handle: (s: Socket) => void }> } };
  const aedes = await Aedes.createBroker();
  const server = createServer((s) => aedes.handle(s));
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return (server.address() as AddressInfo).port;
}

const port = process.argv[2] === 'aedes' ? await startAedes() : await startVigil();
let mark = process.cpuUsage();
process.send!({ port });
process.on('message', (m) => {
  if (m === 'mark') mark = process.cpuUsage();
  if (m === 'sample') {
    globalThis.gc?.();
    const c = process.cpuUsage(mark);
    const mem = process.memoryUsage();
    process.send!({ cpuUs: c.user + c.system, rss: mem.rss, heap: mem.heapUsed + mem.external });
  }
});
