/**
 * The REST API as a fastify instance, built WITHOUT listen: tests drive it with inject(), the
 * composition root calls listen. Every /v1 route sits behind the bearer token (auth.ts) but the
 * gateway webhook receivers (their own secret); /healthz, /readyz, /metrics, /openapi.json and
 * /docs do not. Every route declares request and response
 * schemas (bad input -> 400 naming the field; responses serialised by fast-json-stringify), and every
 * error is a catalog `{code, message}` (error-handler.ts).
 *
 * Route modules, one per resource: routes/health.ts, hosts.ts, endpoints.ts, endpoint-actions.ts,
 * events.ts, users.ts, metrics.ts, overview.ts, session.ts, gateways.ts (the webhook receivers
 * carry their own secret), cluster.ts; the dashboard page: dashboard/static.ts.
 * /v1 also accepts the dashboard's session cookie, with CSRF checks on changes (session/guard.ts).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { HttpDeps } from './deps.js';
import { dashboardRoutes } from './dashboard/static.js';
import { DashboardHistory } from './dashboard/history.js';
import { installErrorHandlers } from './error-handler.js';
import { registerLivenessMetrics } from './liveness-metrics.js';
import { clusterRoutes } from './routes/cluster.js';
import { endpointActionRoutes } from './routes/endpoint-actions.js';
import { endpointRoutes } from './routes/endpoints.js';
import { eventRoutes } from './routes/events.js';
import { gatewayRoutes, gatewayWebhookRoutes } from './routes/gateways.js';
import { healthRoutes } from './routes/health.js';
import { hostMetaRoutes } from './routes/host-meta.js';
import { hostRoutes } from './routes/hosts.js';
import { metricsRoutes } from './routes/metrics.js';
import { overviewRoutes } from './routes/overview.js';
import { sessionRoutes } from './routes/session.js';
import { userRoutes } from './routes/users.js';
import { ChangeEntrySchema, ErrorBody, PresenceViewSchema } from './schemas.js';
import { apiAuth } from './session/guard.js';
import { SESSION_COOKIE } from './session/cookie.js';
import { SessionStore } from './session/store.js';
import { loadSecureOptions, serverTlsOptions } from '../transport/tls-context.js';
import { websocketRoutes } from './websocket.js';

/**
 * Request log lines name the method and the path only: a query string may carry a secret (RFC 6750
 * §2.3 access_token, a client's own mistake), and headers carry the bearer token.
 */
const requestSerializer = (req: { method: string; url: string; ip?: string }) => ({ method: req.method, url: req.url.split('?')[0], remoteAddress: req.ip });

export function createHttpApp(deps: HttpDeps): FastifyInstance {
  // listeners.http.tls: HTTPS (and wss: for the WebSocket endpoints); the certificate reloads on SIGHUP.
  const tls = deps.config.listeners.http.tls;
  let https: ReturnType<typeof createHttpsServer> | null = null;
  const app = Fastify<Server, IncomingMessage, ServerResponse, FastifyBaseLogger>({
    ...(tls
      ? {
          serverFactory: (handler) => {
            https = createHttpsServer(serverTlsOptions(tls, loadSecureOptions(tls)), handler);
            return https;
          },
        }
      : {}),
    loggerInstance: deps.logger.child({}, { serializers: { req: requestSerializer } }),
    bodyLimit: deps.config.api.max_body_bytes,
    // Unknown fields are errors, never silently dropped (a typo must not be ignored).
    // allowUnionTypes: resend_on_timeout is false | true | 'if_offline' (ejabberd's values), a union by design.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false, allowUnionTypes: true } },
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
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'From POST /v1/session; changes also need X-CSRF-Token' },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  void app.register(swaggerUi, { routePrefix: '/docs' });

  if (tls && https && deps.tlsReloader) {
    const server: ReturnType<typeof createHttpsServer> = https;
    deps.tlsReloader.add('http', () => server.setSecureContext(loadSecureOptions(tls)));
  }
  const websockets = deps.websockets ?? [];
  websocketRoutes(app, { config: deps.config, clock: deps.clock, websockets });

  const liveMetrics = registerLivenessMetrics(deps);
  app.addHook('onClose', async () => liveMetrics.stop());
  const sessions = new SessionStore({
    clock: deps.clock,
    ttlMs: deps.config.api.session_ttl * 1000,
    max: deps.config.api.max_sessions,
    onEvict: () => limitHits.inc({ limit: 'max_sessions' }),
  });
  const history = new DashboardHistory({ ...deps, configHosts: () => Object.keys(deps.config.hosts) });
  app.addHook('onClose', async () => history.stop());

  void app.register(async (pub) => {
    healthRoutes(pub, deps);
    metricsRoutes(pub, deps, liveMetrics);
    dashboardRoutes(pub);
    gatewayWebhookRoutes(pub, deps); // each gateway's own secret, not the API token
    const xmppWs = websockets.find((w) => w.framing.protocol === 'xmpp');
    if (xmppWs) hostMetaRoutes(pub, xmppWs.path);
  });
  void app.register(async (login) => sessionRoutes(login, { ...deps, sessions }), { prefix: '/v1' });
  void app.register(async (v1) => {
    v1.addHook('onRequest', apiAuth(deps.apiToken, sessions));
    v1.addHook('onRoute', (route) => {
      route.schema = { ...route.schema, security: [{ bearer: [] }, { session: [] }] };
    });
    hostRoutes(v1, deps);
    endpointRoutes(v1, deps);
    endpointActionRoutes(v1, deps);
    eventRoutes(v1, deps);
    userRoutes(v1, deps);
    overviewRoutes(v1, { ...deps, history });
    gatewayRoutes(v1, deps);
    clusterRoutes(v1, deps);
  }, { prefix: '/v1' });
  return app;
}
