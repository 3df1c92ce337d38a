/** GET /metrics: Prometheus text exposition from the app's prom-client registry (no auth, like most exporters). */
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../deps.js';
import type { LivenessMetrics } from '../liveness-metrics.js';

export function metricsRoutes(app: FastifyInstance, deps: Pick<HttpDeps, 'metrics'>, live: LivenessMetrics): void {
  app.get(
    '/metrics',
    {
      logLevel: 'warn', // scraped every few seconds: no request log lines
      schema: {
        summary: 'Prometheus metrics (no auth)',
        tags: ['health'],
        produces: ['text/plain'],
        response: { 200: { type: 'string' } },
      },
    },
    async (_req, reply) => {
      live.refresh();
      const text = await deps.metrics.registry.metrics();
      return reply.type(deps.metrics.registry.contentType).send(text);
    },
  );
}
