/**
 * Network listeners (issue 14). Plain ones are always on (`xmpp`, `mqtt`, `http`); the TLS and
 * WebSocket ones are off unless the file has them (`mqtts`, `mqtt_ws`, `mqtt_wss`, `xmpps`).
 * The `tls:` block uses Mosquitto's key names (mosquitto.conf(5)), declared once here; the MQTT
 * listeners add the two certificate-to-username modes. Every listener has `max_conn_rate`, the
 * listener-wide connection rate (EMQX's name and default), applied by src/transport/gate.ts.
 */
import { ConfigValueError, type Infer, bool, int, listOf, obj, oneOf, optObj, optStr, str } from '../dsl.js';

const bind = (host: string, port: number) => ({
  host: str({ default: host, doc: 'Address to bind.' }),
  port: int({ default: port, min: 0, max: 65_535, unit: 'none', doc: 'TCP port (0 = any free port).' }),
});

const maxConnRate = int({
  default: 1_000,
  min: 0,
  max: 1_000_000,
  unit: 'per_s',
  doc: 'New connections per second this listener accepts (0 = no limit), a token bucket holding one second\'s worth (EMQX max_conn_rate). Past it a socket is closed before any byte is read and counted in vigil_<protocol>_limit_hits_total{limit="max_conn_rate"}. Not per address: see max_connection_rate_per_ip of each host.',
});

const tlsFields = {
  certfile: optStr({ default: null, doc: 'PEM certificate (chain) of the server. Re-read on SIGHUP.' }),
  keyfile: optStr({ default: null, doc: 'PEM private key of certfile. Re-read on SIGHUP.' }),
  cafile: optStr({ default: null, doc: 'PEM CA certificates that client certificates must chain to (with require_certificate). Re-read on SIGHUP.' }),
  crlfile: optStr({ default: null, doc: 'PEM certificate revocation list checked against client certificates (needs cafile). Re-read on SIGHUP.' }),
  require_certificate: bool({
    default: false,
    doc: 'Ask every client for a certificate signed by cafile and refuse the handshake without one (mutual TLS).',
  }),
  tls_version: oneOf({
    values: ['tlsv1.2', 'tlsv1.3'] as const,
    default: 'tlsv1.2',
    doc: 'Lowest TLS version accepted (Mosquitto 2 semantics: a minimum, not the only version).',
  }),
  ciphers: optStr({
    default: null,
    doc: 'OpenSSL cipher list (TLS 1.2 suites, and TLS 1.3 suite names); null = Node.js defaults.',
  }),
};

/** The TLS block of the HTTP and XMPP listeners. */
export const tlsSchema = obj('TLS settings (Mosquitto key names).', tlsFields);

/** The TLS block of the MQTT listeners: the base keys and the certificate-to-username modes. */
export const mqttTlsSchema = obj('TLS settings (Mosquitto key names).', {
  ...tlsFields,
  use_identity_as_username: bool({
    default: false,
    doc: 'The username of a client is the Common Name of its certificate; the CONNECT\'s username and password are ignored (needs require_certificate). A certificate without a usable CN gets CONNACK "bad user name or password". Wins over use_subject_as_username.',
  }),
  use_subject_as_username: bool({
    default: false,
    doc: 'The username of a client is the subject of its certificate in RFC 2253 order, as Mosquitto writes it (e.g. "CN=dev1,O=Acme,C=GB"); the CONNECT\'s credentials are ignored (needs require_certificate).',
  }),
});

const wsFields = (path: string) => ({
  path: str({ default: path, pattern: /^\/[\x21-\x7e]*$/, doc: 'HTTP path of the WebSocket endpoint; other paths get 404.' }),
  check_origin: listOf({
    item: str({ default: '', pattern: /^https?:\/\/[^/\s]+$/, doc: 'An origin, scheme://host[:port].' }),
    default: [],
    doc: 'When not empty, a browser upgrade whose Origin header is not in this list gets HTTP 403 (clients without an Origin header, not browsers, are let in). Empty = no check.',
  }),
});

export const listenersSchema = obj('Network listeners.', {
  xmpp: obj('XMPP client-to-server listener (RFC 6120), STARTTLS on the stream.', { ...bind('0.0.0.0', 5222), max_conn_rate: maxConnRate }),
  xmpps: optObj('XMPP over direct TLS (XEP-0368): TLS first, then the stream. Off unless present.', {
    ...bind('0.0.0.0', 5223),
    max_conn_rate: maxConnRate,
    tls: optObj('Certificates of this listener; absent = each host\'s STARTTLS certificate, chosen by SNI (first host\'s without SNI).', tlsFields),
  }),
  mqtt: obj('MQTT listener (3.1.1 and 5.0) over TCP.', { ...bind('0.0.0.0', 1883), max_conn_rate: maxConnRate }),
  mqtts: optObj('MQTT over TLS. Off unless present; tls.certfile and tls.keyfile are required.', {
    ...bind('0.0.0.0', 8883),
    max_conn_rate: maxConnRate,
    tls: mqttTlsSchema,
  }),
  mqtt_ws: optObj('MQTT over WebSocket (RFC 6455, MQTT §6): subprotocol mqtt or mqttv3.1, binary frames. Off unless present.', {
    ...bind('0.0.0.0', 8083),
    ...wsFields('/mqtt'),
    max_conn_rate: maxConnRate,
  }),
  mqtt_wss: optObj('MQTT over WebSocket over TLS. Off unless present; tls.certfile and tls.keyfile are required.', {
    ...bind('0.0.0.0', 8084),
    ...wsFields('/mqtt'),
    max_conn_rate: maxConnRate,
    tls: mqttTlsSchema,
  }),
  http: obj('REST API, metrics and dashboard; XMPP over WebSocket at /xmpp-websocket (RFC 7395) and, when mqtt_path is set, MQTT over WebSocket.', {
    ...bind('127.0.0.1', 8080),
    mqtt_path: optStr({
      default: null,
      pattern: /^\/[\x21-\x7e]*$/,
      doc: 'Also serve MQTT over WebSocket on this listener at this path (e.g. /mqtt); null = not on this port.',
    }),
    check_origin: wsFields('/').check_origin,
    max_conn_rate: { ...maxConnRate, doc: 'WebSocket upgrades per second on this listener (0 = no limit); past it the upgrade gets HTTP 503. REST requests do not count.' },
    tls: optObj('Serve HTTPS (and wss:) with this certificate. Absent = plain HTTP (put a TLS proxy in front of anything beyond loopback).', tlsFields),
  }),
});

/** A TLS block as loaded (the MQTT one has the two username modes too). */
export type TlsSettings = Infer<typeof tlsSchema> & Partial<Pick<Infer<typeof mqttTlsSchema>, 'use_identity_as_username' | 'use_subject_as_username'>>;

/**
 * What the schema cannot say: a TLS listener needs its certificate and key, the username modes
 * need client certificates, a CRL needs a CA. Throws ConfigValueError naming the key.
 */
export function checkListeners(listeners: Infer<typeof listenersSchema>): void {
  const blocks: [string, TlsSettings | null, boolean][] = [
    ['mqtts', listeners.mqtts?.tls ?? null, listeners.mqtts !== null],
    ['mqtt_wss', listeners.mqtt_wss?.tls ?? null, listeners.mqtt_wss !== null],
    ['xmpps', listeners.xmpps?.tls ?? null, false],
    ['http', listeners.http.tls, false],
  ];
  for (const [name, tls, required] of blocks) {
    const at = (key: string) => ['listeners', name, 'tls', key];
    if (!tls) continue;
    if (required || tls.certfile !== null || tls.keyfile !== null) {
      if (tls.certfile === null) throw new ConfigValueError(at('certfile'), null, 'a PEM certificate file (certfile and keyfile go together)');
      if (tls.keyfile === null) throw new ConfigValueError(at('keyfile'), null, 'a PEM key file (certfile and keyfile go together)');
    }
    if (tls.require_certificate && tls.cafile === null) throw new ConfigValueError(at('cafile'), null, 'a CA file: require_certificate needs one');
    if (tls.crlfile !== null && tls.cafile === null) throw new ConfigValueError(at('cafile'), null, 'a CA file: crlfile needs one');
    for (const mode of ['use_identity_as_username', 'use_subject_as_username'] as const) {
      if (tls[mode] && !tls.require_certificate) throw new ConfigValueError(at('require_certificate'), false, `true: ${mode} needs client certificates`);
    }
  }
  if (listeners.http.tls && listeners.http.tls.certfile === null) {
    throw new ConfigValueError(['listeners', 'http', 'tls', 'certfile'], null, 'a PEM certificate file: HTTPS needs one');
  }
}
