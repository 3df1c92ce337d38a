/** The whole configuration file. Keys are public interface: scripts and docs rely on them. */
import { int, mapOf, obj, oneOf, optStr, str } from '../dsl.js';
import { clusterSchema } from './cluster.js';
import { gatewaysSchema } from './gateways.js';
import { hostSchema } from './host.js';

const listener = (doc: string, host: string, port: number) =>
  obj(doc, {
    host: str({ default: host, doc: 'Address to bind.' }),
    port: int({ default: port, min: 0, max: 65_535, unit: 'none', doc: 'TCP port (0 = any free port).' }),
  });

export const rootSchema = obj('Vigil configuration.', {
  data_dir: str({
    default: './data',
    doc: 'Directory for the embedded store, generated certificates and the API token. Relative paths are resolved against the working directory.',
  }),
  listeners: obj('Network listeners.', {
    xmpp: listener('XMPP client-to-server listener (RFC 6120).', '0.0.0.0', 5222),
    mqtt: listener('MQTT listener (3.1.1 and 5.0).', '0.0.0.0', 1883),
    http: listener('REST API and metrics listener.', '127.0.0.1', 8080),
  }),
  hosts: mapOf({
    key: 'host name',
    value: hostSchema,
    default: { localhost: {} },
    doc: 'Virtual hosts (XMPP domains; MQTT clients map to one).',
  }),
  api: obj('REST API.', {
    token: optStr({
      default: null,
      secret: true,
      doc: 'Bearer token for /v1 routes. VIGIL_API_TOKEN overrides it; when neither is set one is generated at first start and kept in data_dir.',
    }),
    max_body_bytes: int({
      default: 65_536,
      min: 1_024,
      max: 16 * 1_048_576,
      unit: 'bytes',
      doc: 'Largest REST request body; a larger one gets 413 VIGIL_ERR_BODY_TOO_LARGE (counted in vigil_http_limit_hits_total).',
    }),
    import_max_bytes: int({
      default: 4 * 1_048_576,
      min: 1_024,
      max: 256 * 1_048_576,
      unit: 'bytes',
      doc: 'Largest body of POST /v1/hosts/{host}/users/import; a larger one gets 413 VIGIL_ERR_BODY_TOO_LARGE. `vigil user import` reads files of any size.',
    }),
    import_max_lines: int({
      default: 10_000,
      min: 1,
      max: 1_000_000,
      unit: 'count',
      doc: 'Most accounts (non-blank, non-comment lines) in one POST /v1/hosts/{host}/users/import; more get 413 VIGIL_ERR_IMPORT_TOO_MANY_LINES and nothing is imported. About 2 ms of CPU per password line.',
    }),
    session_ttl: int({
      default: 28_800,
      min: 60,
      max: 30 * 86_400,
      unit: 's',
      doc: 'Lifetime of a dashboard session (POST /v1/session trades the API token for an HttpOnly cookie). Sessions live in memory: a restart logs everyone out.',
    }),
    max_sessions: int({
      default: 1_000,
      min: 1,
      max: 100_000,
      unit: 'count',
      doc: 'Most dashboard sessions at once; a new login beyond it ends the oldest session (counted in vigil_http_limit_hits_total{limit="max_sessions"}).',
    }),
  }),
  presence: obj('Presence table and change feed.', {
    feed_size: int({
      default: 100_000,
      min: 16,
      max: 10_000_000,
      unit: 'count',
      doc: 'Change feed entries kept; a reader further behind must re-snapshot.',
    }),
    offline_ttl: int({
      default: 3_600,
      min: 0,
      max: 30 * 86_400,
      unit: 's',
      doc: 'Seconds an offline endpoint stays in the presence table (with its last disconnect reason).',
    }),
    max_offline: int({
      default: 100_000,
      min: 0,
      max: 10_000_000,
      unit: 'count',
      doc: 'Most offline endpoints kept in the presence table; the oldest go first.',
    }),
  }),
  liveness: obj('Liveness core (all hosts).', {
    timer_slack_ms: int({
      default: 10,
      min: 0,
      max: 1_000,
      unit: 'ms',
      doc: 'Liveness timers (pings, kills, keepalive closes) fire on a grid of this many ms: never early, at most this much late, and deadlines that fall into one slot cost one wakeup instead of one each. 0 = each deadline at its exact ms.',
    }),
  }),
  cluster: clusterSchema,
  gateways: gatewaysSchema,
  log: obj('Logging.', {
    level: oneOf({
      values: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const,
      default: 'info',
      doc: 'pino log level.',
    }),
    format: oneOf({
      values: ['auto', 'json', 'pretty'] as const,
      default: 'auto',
      doc: 'json: one JSON object a line (for files, pipes and log collectors). pretty: a short line a person reads (time, level, message, fields). auto: pretty when standard output is a terminal, else json.',
    }),
  }),
});
