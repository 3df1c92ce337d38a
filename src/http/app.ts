/**
 * The REST API as a fastify instance, built WITHOUT listen: tests drive it with inject(), the
 * composition root calls listen. Every /v1 route sits behind the bearer token (auth.ts); /healthz,
 * /readyz, /metrics, /openapi.json and /docs do not. Every route declares request and response
 * schemas (bad input -> 400 naming the field; responses serialised by fast-json-stringify), and every
 * error is a catalog `{code, message}` (error-handler.ts).
 *
 * Route modules, one per resource: routes/health.ts, hosts.ts, endpoints.ts, endpoint-actions.ts,
 * events.ts, users.ts, metrics.ts, cluster.ts.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { bearerAuth } from './auth.js';
import type { HttpDeps } from './deps.js';
import { installErrorHandlers } from './error-handler.js';
import { registerLivenessMetrics } from './liveness-metrics.js';
import { clusterRoutes } from './routes/cluster.js';
import { endpointActionRoutes } from './routes/endpoint-actions.js';
import { endpointRoutes } from './routes/endpoints.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { hostRoutes } from './routes/hosts.js';
import { metricsRoutes } from './routes/metrics.js';
import { userRoutes } from './routes/users.js';
import { ChangeEntrySchema, ErrorBody, PresenceViewSchema } from './schemas.js';

/**
 * Request log lines name the method and the path only: a query string may carry a secret (RFC 6750
 * §2.3 access_token, a client's own mistake), and headers carry the bearer token.
 */
const requestSerializer = (req: { method: string; url: string; ip?: string }) => ({ method: req.method, url: req.url.split('?')[0], remoteAddress: req.ip });

export function createHttpApp(deps: HttpDeps): FastifyInstance {
  const app = Fastify<Server, IncomingMessage, ServerResponse, FastifyBaseLogger>({
    loggerInstance: deps.logger.child({}, { serializers: { req: requestSerializer } }),
    bodyLimit: deps.config.api.max_body_bytes,
    // Unknown fields are errors, never silently dropped (a typo must not be ignored).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
    return503OnClosing: true,
  });
  const limitHits = deps.metrics.counter('vigil_http_limit_hits_total', 'REST requests refused by a configured limit.', ['limit'] as const);
  installErrorHandlers(app, (limit) => limitHits.inc({ limit }));
  // JSON only: a text/plain body gets 415, not a confusing schema error.
  app.removeContentTypeParser('text/plain');
  for (const s of [ErrorBody, PresenceViewSchema, ChangeEntrySchema]) app.addSchema(s);

  void app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Vigil REST API',
        version: '1',
        description: 'Presence and liveness of XMPP and MQTT clients. Errors: docs/errors.md.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  void app.register(swaggerUi, { routePrefix: '/docs' });

  const liveMetrics = registerLivenessMetrics(deps);
  app.addHook('onClose', async () => liveMetrics.stop());

  void app.register(async (pub) => {
    healthRoutes(pub, deps);
    metricsRoutes(pub, deps, liveMetrics);
  });
  void app.register(async (v1) => {
    v1.addHook('onRequest', bearerAuth(deps.apiToken));
    v1.addHook('onRoute', (route) => {
      route.schema = { ...route.schema, security: [{ bearer: [] }] };
    });
    hostRoutes(v1, deps);
    endpointRoutes(v1, deps);
    endpointActionRoutes(v1, deps);
    eventRoutes(v1, deps);
    userRoutes(v1, deps);
    clusterRoutes(v1, deps);
  }, { prefix: '/v1' });
  return app;
}
