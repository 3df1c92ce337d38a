/**
 * The `cluster` section (issue 15): several Vigil nodes sharing presence on Redis. Absent (the
 * default) = one node, embedded store, no Redis. docs/cluster.md explains each option.
 */
import { bool, int, listOf, obj, optObj, optStr, str } from '../dsl.js';

export const clusterSchema = optObj('Cluster mode on Redis (docs/cluster.md). Absent = one node with the embedded store, no Redis.', {
  redis: obj('The shared Redis engine (Redis 7.0 command set; Valkey works). Give `url` (one instance) or `nodes` (Redis Cluster seeds), not both.', {
    url: optStr({
      default: null,
      pattern: /^rediss?:\/\/[^\s]+$/,
      doc: 'One Redis instance, `redis://host:port[/db]` (`rediss://` = TLS). No password here: use `password`.',
    }),
    nodes: listOf({
      item: str({ default: '', pattern: /^[^\s:]+:\d{1,5}$/, doc: 'host:port of a Redis Cluster node.' }),
      default: [],
      doc: 'Redis Cluster seed nodes (`host:port`); the client learns the rest of the topology from them.',
    }),
    password: optStr({ default: null, secret: true, doc: 'Redis AUTH password (VIGIL_CLUSTER__REDIS__PASSWORD overrides it; never logged).' }),
    tls: bool({ default: false, doc: 'Connect to Redis over TLS (implied by a `rediss://` url).' }),
  }),
  node_id: optStr({
    default: null,
    pattern: /^[A-Za-z0-9._-]{1,64}$/,
    doc: 'This node\'s name in the cluster (GET /v1/cluster, feed events, logs); unique per running node. Default: the machine\'s host name and the process id.',
  }),
  lease_ms: int({
    default: 15_000,
    min: 300,
    max: 600_000,
    unit: 'ms',
    doc: 'Node lease: renewed every lease_ms/3; a node silent for lease_ms is swept by the others (its endpoints go offline with node_down), and a node that could not renew for lease_ms closes its own clients and rejoins with a new epoch.',
  }),
});
