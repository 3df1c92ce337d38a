/**
 * What the dashboard shows above the endpoint table, for one host:
 *   GET /v1/hosts/{host}/overview
 * -> counts by transport (online, offline) and by liveness state (of online endpoints), the
 *    samples of the last half hour (online counts, probe round-trip percentiles; DashboardHistory),
 *    the last disconnects with their reasons, and the feed's `last_seq` at the time of the counts,
 *    so a reader applying the change feed on top skips the entries already counted.
 * The liveness counts walk the host's live handles: O(endpoints), about a millisecond per 100k
 * (bench: npm run bench -- rest); the page asks every few seconds while it is visible.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { LivenessState } from '../../liveness/types.js';
import type { DashboardHistory } from '../dashboard/history.js';
import type { HttpDeps } from '../deps.js';
import { sendError } from '../error-handler.js';
import { AUTH_ERRORS, DisconnectReasonSchema, HostParams, Transport, errors } from '../schemas.js';

type Deps = Pick<HttpDeps, 'config' | 'hostSettings' | 'liveness' | 'presence'> & { history: DashboardHistory };

const Counts = Type.Object({ xmpp: Type.Integer(), mqtt: Type.Integer() });
const Nullable = (description: string) => Type.Union([Type.Number(), Type.Null()], { description });
const Overview = Type.Object({
  host: Type.String(),
  at: Type.Integer({ description: 'When the counts were taken (ms since the Unix epoch)' }),
  last_seq: Type.Integer({ description: 'Change feed seq the counts include' }),
  online: Counts,
  offline: Counts,
  liveness: Type.Object({ active: Type.Integer(), probing: Type.Integer(), unresponsive: Type.Integer(), paused: Type.Integer(), resumable: Type.Integer() }),
  step_ms: Type.Integer({ description: 'Time between two history samples' }),
  history: Type.Array(
    Type.Object({
      at: Type.Integer(),
      online_xmpp: Type.Integer(),
      online_mqtt: Type.Integer(),
      probes: Type.Integer({ description: 'Probes answered during the step' }),
      rtt_p50_ms: Nullable('Median round trip of those probes (within ~10%)'),
      rtt_p90_ms: Nullable('90th percentile'),
      rtt_p99_ms: Nullable('99th percentile'),
    }),
    { description: 'Oldest first; the last sample is the step in progress' },
  ),
  disconnects: Type.Array(Type.Object({ at: Type.Integer(), transport: Transport, id: Type.String(), reason: DisconnectReasonSchema }), {
    description: 'Last disconnects, newest first',
  }),
});

export function overviewRoutes(app: FastifyInstance, deps: Deps): void {
  app.get<{ Params: Static<typeof HostParams> }>(
    '/hosts/:host/overview',
    {
      schema: {
        summary: 'Counts by transport and liveness state, recent history and disconnects of a host (the dashboard)',
        tags: ['hosts'],
        params: HostParams,
        response: { 200: Overview, ...errors(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (req, reply) => {
      const { host } = req.params;
      if (!deps.hostSettings.get(host)) return sendError(reply, 'VIGIL_ERR_UNKNOWN_HOST', host);
      const liveness: Record<LivenessState, number> = { active: 0, probing: 0, unresponsive: 0, paused: 0, resumable: 0 };
      // Per transport: the registry's list of both merges them in tracking order, which costs more.
      for (const transport of ['xmpp', 'mqtt'] as const) for (const h of deps.liveness.list(host, transport)) liveness[h.state]++;
      const count = (state: 'online' | 'offline') => ({
        xmpp: deps.presence.count(host, 'xmpp', state),
        mqtt: deps.presence.count(host, 'mqtt', state),
      });
      const history = deps.history.points(host);
      return {
        host,
        at: history.at(-1)!.at,
        last_seq: deps.presence.lastSeq(),
        online: count('online'),
        offline: count('offline'),
        liveness,
        step_ms: deps.history.stepMs,
        history,
        disconnects: deps.history.disconnects(host),
      };
    },
  );
}
