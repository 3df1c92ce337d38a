/**
 * A private Redis Cluster for tests: three masters (no replicas) on free loopback ports, each in
 * its own temporary directory, joined with `redis-cli --cluster create`, stopped by PID.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type RedisServer, freePort, startRedis } from './redis-server.js';

export interface RedisCluster {
  /** `host:port` of every master (the `cluster.redis.nodes` seeds). */
  readonly nodes: string[];
  stop(): Promise<void>;
}

export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const servers: RedisServer[] = [];
  try {
    for (let i = 0; i < masters; i++) {
      servers.push(await startRedis({ port: await freePort(), args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--appendonly', 'no'] }));
    }
    const nodes = servers.map((s) => `127.0.0.1:${s.port}`);
    await promisify(execFile)('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'], { timeout: 20_000 });
    // Wait until every master agrees the cluster is up.
    for (const s of servers) {
      for (let i = 0; i < 200; i++) {
        const { stdout } = await promisify(execFile)('redis-cli', ['-p', String(s.port), 'cluster', 'info']);
        if (stdout.includes('cluster_state:ok')) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    return { nodes, stop: async () => void (await Promise.all(servers.map((s) => s.stop()))) };
  } catch (err) {
    await Promise.all(servers.map((s) => s.stop()));
    throw err;
  }
}
