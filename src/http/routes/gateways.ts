/**
 * Gateway mode over REST (docs/gateways.md):
 *   GET  /v1/gateways                 each gateway: state, last event, lag, counts (API token)
 *   POST /v1/gateways/{name}/events   webhook receiver: NOT behind the API token, each gateway
 *        has its own secret (src/gateway/webhook.ts: Bearer, Basic or HMAC of the raw body).
 * The receiver reads the raw body (HMAC needs the bytes as sent), caps it at the gateway's
 * webhook.max_body_bytes, and answers `{accepted, ignored, applied, duplicate, stale}`; a refused
 * call is counted in vigil_gateway_rejected_total. VerneMQ needs a JSON answer with 200: it is one.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Gateways } from '../../gateway/service.js';
import { WEBHOOK_KINDS, readWebhook, webhookAuth } from '../../gateway/webhook.js';
import { sendError } from '../error-handler.js';
import { AUTH_ERRORS, errors } from '../schemas.js';

interface Deps {
  gateways?: Gateways;
}

const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 63 }) });
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Int = Type.Integer();

const GatewayView = Type.Object({
  name: Type.String(),
  kind: Type.String(),
  host: Type.String(),
  state: Type.String({ description: 'starting | up | unreachable | down | unmonitored (webhook only)' }),
  since: Type.Integer({ description: 'When the state began (ms since the Unix epoch)' }),
  online: Type.Integer({ description: 'Clients online as the gateway reports them' }),
  last_event_at: Type.Union([Int, Type.Null()]),
  lag_ms: Type.Union([Int, Type.Null()], { description: "Receipt time minus the gateway's own timestamp of the last event that had one" }),
  channels: Type.Object({
    watcher: Type.Union([
      Type.Object({ state: Type.String(), last_lost: Nullable(Type.String()), rtt_ms: Type.Union([Type.Number(), Type.Null()]), refused: Type.Array(Type.String()) }),
      Type.Null(),
    ]),
    webhook: Type.Boolean(),
    api: Type.Union([Type.Object({ state: Type.String(), last_error: Nullable(Type.String()), last_snapshot_at: Type.Union([Int, Type.Null()]) }), Type.Null()]),
  }),
  nodes: Type.Array(Type.String()),
  counts: Type.Object({ applied: Int, duplicate: Int, stale: Int, rejected: Int, snapshots: Int }),
});

const Accepted = Type.Object({ accepted: Int, ignored: Int, applied: Int, duplicate: Int, stale: Int });

export function gatewayRoutes(app: FastifyInstance, deps: Deps): void {
  app.get(
    '/gateways',
    { schema: { summary: 'Watched gateways: state, last event, lag, counts', tags: ['gateways'], response: { 200: Type.Object({ items: Type.Array(GatewayView) }), ...errors(...AUTH_ERRORS) } } },
    async () => ({ items: (deps.gateways?.list() ?? []).map((g) => g.status()) }),
  );
}

/** The largest webhook body any gateway accepts (the route's limit; each gateway's own is checked after). */
function routeLimit(gateways: Gateways | undefined): number {
  return Math.max(1_024, ...(gateways?.list() ?? []).map((g) => g.webhookMaxBytes));
}

export function gatewayWebhookRoutes(app: FastifyInstance, deps: Deps): void {
  void app.register(async (scope) => {
    // The raw bytes, for the HMAC; parsed as JSON in the handler once the caller is known.
    scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: routeLimit(deps.gateways) }, (_req, body, done) => done(null, body));
    scope.post<{ Params: Static<typeof NameParams> }>(
      '/v1/gateways/:name/events',
      {
        bodyLimit: routeLimit(deps.gateways),
        schema: {
          summary: 'Webhook receiver of a gateway (its own secret, not the API token)',
          tags: ['gateways'],
          params: NameParams,
          response: { 200: Accepted, ...errors(400, 401, 403, 404, 413, 415) },
        },
      },
      async (req, reply) => {
        const g = deps.gateways?.get(req.params.name);
        const secret = g?.webhookSecret ?? null;
        if (!g || secret === null || !WEBHOOK_KINDS.has(g.kind)) return sendError(reply, 'VIGIL_ERR_GATEWAY_NOT_FOUND', `${req.params.name} takes no webhook`);
        const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        if (raw.length > g.webhookMaxBytes) {
          g.rejected('body');
          return sendError(reply, 'VIGIL_ERR_BODY_TOO_LARGE', `over webhook.max_body_bytes (${g.webhookMaxBytes})`);
        }
        const auth = webhookAuth(secret, req.headers, raw);
        if (auth !== 'ok') {
          g.rejected('auth');
          req.log.warn({ event: 'gateway_webhook_refused', gateway: g.name, why: auth }, 'webhook call refused');
          return sendError(reply, auth === 'missing' ? 'VIGIL_ERR_WEBHOOK_AUTH_MISSING' : 'VIGIL_ERR_WEBHOOK_AUTH_INVALID');
        }
        let body: unknown;
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          g.rejected('body');
          return sendError(reply, 'VIGIL_ERR_BAD_JSON');
        }
        const read = readWebhook(g.kind, req.headers, body);
        if (read.malformed !== null) {
          g.rejected('malformed');
          return sendError(reply, 'VIGIL_ERR_WEBHOOK_BAD_EVENT', read.malformed);
        }
        const verdicts = g.ingest(read.events);
        const n = (v: string) => verdicts.filter((x) => x === v).length;
        return { accepted: read.events.length, ignored: read.ignored, applied: n('applied'), duplicate: n('duplicate'), stale: n('stale') };
      },
    );
  });
}
