/**
 * MQTT across nodes for `npm run bench -- cluster` (issue 16): delivered messages/s and server CPU
 * per delivered message (every server process and Redis summed, from /proc), QoS 0 and QoS 1,
 * 64-byte payloads, 1->1, 10->10 and 1->100 (the closed-loop generator of bench/suite/flow.ts),
 * publishers connected to one node and subscribers to another, side by side:
 *
 *   Vigil 2 nodes + Redis      two `vigil serve` processes, one redis-server (the row the ratios use)
 *   1-process Vigil            one `vigil serve`, no Redis (the single-process baseline)
 *   workers-2 Vigil            `vigil serve --workers 2` + Redis: one shared port, connections
 *                              handed round-robin, so about half the deliveries cross workers
 *   Aedes-cluster              two Aedes processes with mqemitter-redis + aedes-persistence-redis
 *   Mosquitto                  one process (no cluster mode of its own), the C reference
 *
 * One setup per column for every case (start-up under tsx takes seconds). The generator runs in
 * this process and shares the machine's cores with the servers: read ratios within one run.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@redis/client';
import { startRedis } from '../test/support/redis-server.js';
import { type Node, startNode } from './cluster.js';
import { type FlowTarget, runCase, SHAPES } from './suite/flow.js';
import { descendants, dpkgVersion, freePort, sleep, spawnTracked, stopTracked, waitForLine } from './suite/proc.js';
import { note, table } from './suite/report.js';

const ROOT = new URL('..', import.meta.url).pathname;
const SCENARIO = 'cluster-mqtt';

interface Setup {
  target: FlowTarget;
  stop(): Promise<void>;
}

async function aedesCluster(redisPort: number, redisPid: number): Promise<Setup> {
  const procs: ReturnType<typeof spawnTracked>[] = [];
  const ports: number[] = [];
  for (let i = 0; i < 2; i++) {
    const port = await freePort();
    const child = spawnTracked(process.execPath, [join(ROOT, 'bench/suite/aedes-cluster-server.mjs'), String(port), String(redisPort)], { cwd: ROOT });
    await waitForLine(child, /aedes_ready/, 30_000);
    child.stdout?.resume();
    child.stderr?.resume();
    procs.push(child);
    ports.push(port);
  }
  const { version } = JSON.parse(readFileSync(join(ROOT, 'node_modules/aedes/package.json'), 'utf8')) as { version: string };
  return {
    target: { kind: 'aedes-cluster', label: `Aedes-cluster ${version} (2 + Redis)`, pid: procs[0]!.pid!, mqttPort: ports[0]!, pubPort: ports[1]!, pids: [...procs.map((p) => p.pid!), redisPid] },
    stop: async () => {
      for (const p of procs) await stopTracked(p);
    },
  };
}

async function mosquitto(): Promise<Setup> {
  const { startMosquitto } = await import('./suite/servers.js');
  const m = await startMosquitto();
  return { target: { kind: 'mosquitto', label: `Mosquitto ${dpkgVersion('mosquitto')}`, pid: m.pid, mqttPort: m.mqttPort! }, stop: () => m.stop() };
}

const vigilTarget = (kind: string, label: string, subs: Node, pubs: Node, pids: number[]): FlowTarget => ({ kind, label, pid: subs.pid, mqttPort: subs.mqtt, pubPort: pubs.mqtt, pids });

export async function runMqtt(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const windowS = quick ? 1 : 3;
  const warmupMs = quick ? 500 : 1_000;
  const only = args.find((a) => a.startsWith('--only='))?.slice(7).split(',');
  const redis = await startRedis({ args: ['--appendonly', 'no', '--save', ''] });
  const redisPid = redis.pid()!;
  const redisPort = Number(new URL(redis.url).port);
  const setups: Record<string, () => Promise<Setup>> = {
    vigil: async () => {
      const a = await startNode('m1', redis.url);
      const b = await startNode('m2', redis.url);
      return { target: vigilTarget('vigil', 'Vigil 2 nodes + Redis', a, b, [a.pid, b.pid, redisPid]), stop: async () => (await a.stop(), await b.stop()) };
    },
    single: async () => {
      const a = await startNode('solo', null);
      return { target: vigilTarget('vigil-1', '1-process Vigil', a, a, [a.pid]), stop: () => a.stop() };
    },
    workers: async () => {
      const a = await startNode('wk', redis.url, ['--workers', '2']);
      await sleep(3_000); // both workers serving (the port answers once the first one listens)
      const pids = [a.pid, ...descendants(a.pid), redisPid];
      if (pids.length < 4) note(SCENARIO, `--workers 2: ${pids.length - 2} worker(s) found`);
      return { target: vigilTarget('vigil-w2', 'workers-2 Vigil', a, a, pids), stop: () => a.stop() };
    },
    aedes: () => aedesCluster(redisPort, redisPid),
    mosquitto,
  };
  const cases = [0, 1].flatMap((qos) => [...SHAPES.p2p, ...SHAPES.fanout].map((shape) => ({ qos: qos as 0 | 1, shape })));
  try {
    for (const [name, start] of Object.entries(setups)) {
      if (only && !only.includes(name)) continue;
      const r = createClient({ url: redis.url });
      await r.connect();
      await r.sendCommand(['FLUSHALL']);
      await r.close();
      let s: Setup | null = null;
      try {
        s = await start();
        for (const c of cases) await runCase(s.target, SCENARIO, c.shape, c.qos, windowS, warmupMs);
      } catch (err) {
        note(SCENARIO, `${name}: ${String(err)}`);
      } finally {
        await s?.stop();
      }
    }
  } finally {
    await redis.stop();
  }
  console.log(`\nMQTT across nodes: publishers on one node, subscribers on another (window ${windowS} s)\n`);
  console.log(`${table(SCENARIO)}\n`);
}
