/** Helpers of the limits tests: labelled counters of a World's metrics registry, a slowloris writer. */
import type { RawConn } from '../fuzz/clients.js';
import type { World } from '../fuzz/world.js';

export async function counterValue(world: World, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = world.deps.metrics.registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
    .reduce((sum, v) => sum + v.value, 0);
}

export const xmppLimitHits = (world: World, limit: string) => counterValue(world, 'vigil_xmpp_limit_hits_total', { limit });

/** Slowloris: write `bytes` one a second (manual time) until the server closes; returns how many went out. */
export async function trickle(world: World, conn: RawConn, bytes: Buffer, msPerByte = 1_000): Promise<number> {
  let sent = 0;
  while (!conn.closed && sent < bytes.length) {
    conn.write([bytes.subarray(sent, sent + 1)]);
    sent++;
    await world.advance(msPerByte);
  }
  return sent;
}
