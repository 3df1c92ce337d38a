/**
 * Unauthenticated probes for orchestrators: `/healthz` (the process answers) and `/readyz` (store
 * open and listeners up, via deps.ready()), plus the generated OpenAPI document.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../deps.js';
import { sendError } from '../error-handler.js';
import { errors } from '../schemas.js';

export function healthRoutes(app: FastifyInstance, deps: Pick<HttpDeps, 'ready' | 'store' | 'services'>): void {
  app.get(
    '/healthz',
    {
      logLevel: 'warn', // probes hit this every few seconds: no request log lines
      schema: {
        summary: 'Liveness of the process (no auth)',
        tags: ['health'],
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      logLevel: 'warn',
      schema: {
        summary: 'Readiness: store open and listeners up (no auth)',
        tags: ['health'],
        response: {
          200: Type.Object({
            status: Type.Literal('ready'),
            services: Type.Array(
              Type.Object({ name: Type.String(), address: Type.Union([Type.Object({ host: Type.String(), port: Type.Integer() }), Type.Null()]) }),
            ),
          }),
          ...errors(503),
        },
      },
    },
    async (_req, reply) => {
      if (!deps.store.isOpen()) return sendError(reply, 'VIGIL_ERR_NOT_READY', 'the store is closed');
      if (!deps.ready()) return sendError(reply, 'VIGIL_ERR_NOT_READY', 'listeners are not up');
      return { status: 'ready' as const, services: deps.services().map((s) => ({ name: s.name, address: s.address() })) };
    },
  );

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
