/** Reads a labelled counter of a World's metrics registry (limit hits and the like). */
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
