/**
 * GET /v1/cluster: the nodes of the cluster (read from Redis): lease deadline, epoch, endpoints
 * held, version, REST address; `self` marks the node that answered. 404 VIGIL_ERR_NOT_CLUSTERED on
 * a single node, 503 VIGIL_ERR_CLUSTER_UNAVAILABLE while Redis cannot be reached.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../deps.js';
import { sendError } from '../error-handler.js';
import { AUTH_ERRORS, errors } from '../schemas.js';

type Deps = Pick<HttpDeps, 'cluster'>;

const NodeSchema = Type.Object({
  node: Type.String(),
  epoch: Type.Integer({ description: 'Incarnation: a new one at every join (start, or rejoin after losing the lease)' }),
  lease_expires_at: Type.Integer({ description: 'Lease deadline (Redis clock, ms since the Unix epoch)' }),
  endpoints: Type.Integer({ description: 'Connections this node holds' }),
  version: Type.String(),
  http: Type.String({ description: 'REST address of the node' }),
  started_at: Type.Integer(),
  self: Type.Boolean({ description: 'The node that answered' }),
});

const Reply = Type.Object({
  node: Type.String({ description: 'The node that answered' }),
  epoch: Type.Integer(),
  state: Type.String({ description: 'joining | member | fenced | left' }),
  lease_ms: Type.Integer(),
  feed_seq: Type.Integer({ description: 'Last change feed seq this node has applied' }),
  nodes: Type.Array(NodeSchema),
});

export function clusterRoutes(app: FastifyInstance, deps: Deps): void {
  app.get(
    '/cluster',
    {
      schema: {
        summary: 'Cluster nodes with lease, epoch, endpoints held and version',
        tags: ['cluster'],
        response: { 200: Reply, ...errors(...AUTH_ERRORS, 404, 503) },
      },
    },
    async (req, reply) => {
      const c = deps.cluster;
      if (!c) return sendError(reply, 'VIGIL_ERR_NOT_CLUSTERED');
      try {
        const nodes = await c.nodes();
        return { node: c.nodeId, epoch: c.membership.epoch, state: c.membership.state, lease_ms: c.leaseMs, feed_seq: c.mirror.lastSeq(), nodes };
      } catch (err) {
        req.log.warn({ event: 'cluster_read_failed', err: String(err) }, 'GET /v1/cluster could not read Redis');
        return sendError(reply, 'VIGIL_ERR_CLUSTER_UNAVAILABLE');
      }
    },
  );
}
