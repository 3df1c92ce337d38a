/**
 * Gateway mode (issue 19): the brokers and chat servers Vigil runs beside, whose clients it does not
 * terminate but lists in the same presence table (`source: <name>`). Keys are public interface:
 * `gateways.<name>.kind|host|mqtt|webhook|api`, `gateway_timeout`. What each kind can tell and the
 * gateway-side configuration to paste: docs/gateways.md.
 *
 * The DSL has no required options and no rules across keys: checkGateways (called by the loader)
 * adds them, naming the key path like any other config error.
 */
import { ConfigValueError, bool, int, mapOf, obj, optStr } from '../dsl.js';

export const GATEWAY_KINDS = ['emqx', 'mosquitto', 'aedes', 'vernemq', 'ejabberd'] as const;
export type GatewayKind = (typeof GATEWAY_KINDS)[number];

/** Which ways of learning about clients each kind offers (docs/gateways.md says why). */
export const GATEWAY_CHANNELS: Record<GatewayKind, readonly ('mqtt' | 'webhook' | 'api')[]> = {
  emqx: ['mqtt', 'webhook', 'api'],
  mosquitto: ['mqtt'],
  aedes: ['mqtt'],
  vernemq: ['mqtt', 'webhook', 'api'],
  ejabberd: ['api'],
};

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export const gatewaySchema = obj('One gateway Vigil watches.', {
  kind: optStr({
    default: null,
    pattern: new RegExp(`^(${GATEWAY_KINDS.join('|')})$`),
    doc: `Required: ${GATEWAY_KINDS.join(' | ')}.`,
  }),
  host: optStr({
    default: null,
    doc: "The Vigil host (a key of `hosts`) the gateway's clients belong to; may be left out when one host is configured.",
  }),
  gateway_timeout: int({
    default: 60,
    min: 1,
    max: 86_400,
    unit: 's',
    doc: "Seconds the gateway may be lost (watcher disconnected or unanswered, API failing, a node's heartbeat silent) before its rows go offline with reason gateway_down.",
  }),
  offline_debounce_ms: int({
    default: 2_000,
    min: 0,
    max: 600_000,
    unit: 'ms',
    doc: 'Kinds without an ordering key (Aedes, Mosquitto, VerneMQ): an offline waits this long; a reconnect meanwhile cancels it, and with `api` the gateway is asked before the row goes offline. 0 = at once.',
  }),
  poll_interval: int({
    default: 30,
    min: 0,
    max: 86_400,
    unit: 's',
    doc: 'Seconds between snapshots read through `api` (EMQX, VerneMQ, ejabberd), diffed against the rows. 0 = only at start and when the gateway comes back (ejabberd needs more than 0).',
  }),
  mqtt: obj('The watcher: one MQTT client connection from Vigil to the gateway (mqtt-packet on the wire).', {
    url: optStr({ default: null, pattern: /^mqtts?:\/\/[^\s/?#@]+(:\d{1,5})?\/?$/, doc: 'mqtt://host:port or mqtts://host:port; null = no watcher.' }),
    username: optStr({ default: null, doc: 'CONNECT user name.' }),
    password: optStr({ default: null, secret: true, doc: 'CONNECT password (send it over mqtts:// only).' }),
    client_id: optStr({ default: null, pattern: /^[0-9A-Za-z_.:-]{1,64}$/, doc: 'CONNECT client id; default vigil-watch-<name>.' }),
    tls: obj('TLS of the watcher (on with mqtts://).', {
      ca_file: optStr({ default: null, doc: 'PEM file of the CA to trust instead of the system store.' }),
      cert_file: optStr({ default: null, doc: 'PEM client certificate (mutual TLS).' }),
      key_file: optStr({ default: null, doc: 'PEM key of cert_file.' }),
      servername: optStr({ default: null, doc: 'Name to verify and send as SNI; default: the URL host.' }),
      reject_unauthorized: bool({ default: true, doc: 'Refuse a certificate that does not verify (false only for tests).' }),
    }),
    ping_interval: int({
      default: 15,
      min: 1,
      max: 3_600,
      unit: 's',
      doc: "PINGREQ after this many seconds of the watcher's own silence (Netty's writer-idle); also the CONNECT Keep Alive.",
    }),
    ping_ack_timeout: int({
      default: 5,
      min: 1,
      max: 600,
      unit: 's',
      doc: 'No PINGRESP (or CONNACK, SUBACK) within this many seconds: the gateway is unreachable and the watcher reconnects.',
    }),
    reconnect_min_ms: int({ default: 500, min: 10, max: 600_000, unit: 'ms', doc: 'First reconnect delay; doubled per failed attempt, with jitter.' }),
    reconnect_max_ms: int({ default: 30_000, min: 10, max: 3_600_000, unit: 'ms', doc: 'Cap of the reconnect delay.' }),
  }),
  webhook: obj('Events pushed by the gateway to POST /v1/gateways/<name>/events (EMQX, VerneMQ).', {
    secret: optStr({
      default: null,
      secret: true,
      doc: 'Shared secret: sent as `Authorization: Bearer`, as the password of HTTP Basic, or as the key of `X-Vigil-Signature: sha256=<HMAC of the body>`; null = no receiver.',
    }),
    max_body_bytes: int({ default: 65_536, min: 1_024, max: 16 * 1_048_576, unit: 'bytes', doc: 'Largest event body; larger ones get 413.' }),
  }),
  api: obj("The gateway's own REST API: snapshots, checks and actions (kick).", {
    url: optStr({ default: null, pattern: /^https?:\/\/[^\s?#@]+$/, doc: 'Base URL (EMQX http://host:18083, VerneMQ http://host:8888, ejabberd http://host:5281/api); null = none.' }),
    token: optStr({ default: null, secret: true, doc: 'Bearer token (EMQX, ejabberd OAuth) or VerneMQ API key (x-api-key).' }),
    username: optStr({ default: null, doc: 'HTTP Basic user instead of a token (EMQX API key, ejabberd admin JID).' }),
    password: optStr({ default: null, secret: true, doc: 'HTTP Basic password (EMQX secret key, ejabberd password).' }),
    timeout_ms: int({ default: 10_000, min: 100, max: 300_000, unit: 'ms', doc: 'Deadline of one API request.' }),
    max_rows: int({ default: 1_000_000, min: 1, max: 100_000_000, unit: 'count', doc: 'Most sessions read in one snapshot; a larger snapshot is refused and counted.' }),
  }),
});

export const gatewaysSchema = mapOf({ key: 'gateway name', value: gatewaySchema, default: {}, doc: 'Gateways Vigil watches (docs/gateways.md).' });

interface GatewaysConfig {
  hosts: Record<string, unknown>;
  gateways: Record<
    string,
    {
      kind: string | null;
      host: string | null;
      poll_interval: number;
      mqtt: { url: string | null; tls: { cert_file: string | null; key_file: string | null } };
      webhook: { secret: string | null };
      api: { url: string | null; token: string | null; username: string | null; password: string | null };
    }
  >;
}

/** The rules across keys; throws ConfigValueError naming the key. Fills a left-out host. */
export function checkGateways(config: GatewaysConfig): void {
  const hosts = Object.keys(config.hosts);
  for (const [name, g] of Object.entries(config.gateways)) {
    const at = (...k: string[]) => ['gateways', name, ...k];
    if (!NAME.test(name) || name === 'local') throw new ConfigValueError(at(), name, `a gateway name matching ${String(NAME)}, not "local"`);
    if (g.kind === null) throw new ConfigValueError(at('kind'), undefined, `one of ${GATEWAY_KINDS.join(' | ')} (required)`);
    if (g.host === null) {
      if (hosts.length !== 1) throw new ConfigValueError(at('host'), undefined, `one of the hosts (${hosts.join(', ')}): required when several are configured`);
      g.host = hosts[0]!;
    } else if (!hosts.includes(g.host)) throw new ConfigValueError(at('host'), g.host, `one of the hosts (${hosts.join(', ')})`);
    const allowed = GATEWAY_CHANNELS[g.kind as GatewayKind];
    const set = { mqtt: g.mqtt.url !== null, webhook: g.webhook.secret !== null, api: g.api.url !== null };
    for (const ch of ['mqtt', 'webhook', 'api'] as const) {
      if (set[ch] && !allowed.includes(ch)) throw new ConfigValueError(at(ch), ch, `nothing: ${g.kind} offers ${allowed.join(', ')} (docs/gateways.md)`);
    }
    if (!set.mqtt && !set.webhook && !set.api) throw new ConfigValueError(at(), g, `at least one of ${allowed.map((c) => `${c}.${c === 'webhook' ? 'secret' : 'url'}`).join(', ')}`);
    if (g.kind === 'ejabberd' && g.poll_interval === 0) throw new ConfigValueError(at('poll_interval'), 0, 'more than 0: ejabberd is only polled');
    if (g.api.token !== null && (g.api.username !== null || g.api.password !== null)) throw new ConfigValueError(at('api', 'token'), '(secret)', 'a token or username/password, not both');
    if ((g.mqtt.tls.cert_file === null) !== (g.mqtt.tls.key_file === null)) throw new ConfigValueError(at('mqtt', 'tls'), '(files)', 'cert_file and key_file together');
  }
}
