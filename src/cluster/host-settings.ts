/**
 * The host settings seam (src/host-settings.ts HostSettingsTable) in cluster mode: a change on any
 * node is stored in Redis (`{vigil}:hostcfg`, merged) and announced on the control stream first,
 * then applied here; every other node applies it when its feed reader sees the entry, and a node
 * that joins later adopts what Redis holds. Either every node changes or, when Redis does not
 * answer, none does (503 VIGIL_ERR_CLUSTER_UNAVAILABLE). The in-force values and the listeners are
 * the local table's; `?persist=true` is also kept in this node's own store as on a single node.
 */
import { VigilError } from '../errors.js';
import { type HostSettingsPatch, type HostSettingsTable, parseHostSettingsPatch } from '../host-settings.js';
import type { ClusterNode } from './node.js';

export function createClusterHostSettings(local: HostSettingsTable, node: ClusterNode): HostSettingsTable {
  node.onHostSettings((host, raw) => {
    if (!local.get(host)) return; // a host this node does not serve
    let patch: HostSettingsPatch;
    try {
      patch = parseHostSettingsPatch(raw);
    } catch (err) {
      node.logger.warn({ event: 'host_config_override_ignored', host, err: String(err) }, 'cluster host settings do not fit the schema');
      return;
    }
    void local.change(host, patch, { persist: false });
    node.logger.info({ event: 'host_config_changed', host, patch, cluster: true }, 'host config changed by the cluster');
  });
  return {
    all: () => local.all(),
    get: (host) => local.get(host),
    persisted: (host) => local.persisted(host),
    async change(host, patch, opts) {
      if (!local.get(host)) throw new VigilError('VIGIL_ERR_UNKNOWN_HOST', host);
      try {
        await node.publishHostSettings(host, patch);
      } catch (err) {
        throw new VigilError('VIGIL_ERR_CLUSTER_UNAVAILABLE', `the change was not applied on any node (${String(err)})`);
      }
      return local.change(host, patch, opts);
    },
    subscribe: (listener) => local.subscribe(listener),
  };
}
