/**
 * Per host XMPP c2s options (RFC 6120 / RFC 6121). The XMPP issue owns this file. Each option is
 * declared once with its default, unit and doc; docs/config.md is generated from here.
 */
import { bool, int, listOf, obj, oneOf, optStr, str } from '../dsl.js';
import { streamMgmtFields } from './stream-mgmt.js';

export const xmppSchema = obj('XMPP client-to-server options for this host.', {
  tls: oneOf({
    values: ['required', 'optional', 'off'] as const,
    default: 'required',
    doc: 'STARTTLS (RFC 6120 §5): required = SASL and everything after it only over TLS; optional = offered, not enforced; off = never offered.',
  }),
  certfile: optStr({
    default: null,
    doc: 'PEM certificate (chain) for STARTTLS. When neither certfile nor keyfile is set a self-signed certificate is generated once into data_dir/xmpp-tls/ and its path is logged.',
  }),
  keyfile: optStr({
    default: null,
    doc: 'PEM private key matching certfile.',
  }),
  allow_plaintext_auth: bool({
    default: false,
    doc: 'Offer SASL PLAIN on a stream that is not encrypted. Off by default: PLAIN sends the password itself (RFC 4616 §4).',
  }),
  disable_sasl_mechanisms: listOf({
    item: str({ default: 'PLAIN', pattern: /^(SCRAM-SHA-256|SCRAM-SHA-1|PLAIN)$/, doc: 'A SASL mechanism name.' }),
    default: [],
    doc: 'SASL mechanisms not to offer on this host (ejabberd disable_sasl_mechanisms). Offered otherwise: SCRAM-SHA-256, SCRAM-SHA-1, PLAIN (PLAIN only over TLS unless allow_plaintext_auth).',
  }),
  max_stanza_size: int({
    default: 65_536,
    min: 1_024,
    max: 64 * 1_048_576,
    unit: 'bytes',
    doc: 'Largest stanza accepted; a larger one closes the stream with policy-violation (ejabberd default 65536).',
  }),
  handshake_timeout: int({
    default: 30,
    min: 1,
    max: 3_600,
    unit: 's',
    doc: 'Seconds a new connection has to finish stream negotiation (TLS, SASL, bind); after that it is closed with connection-timeout.',
  }),
  max_connections_per_ip: int({
    default: 64,
    min: 0,
    max: 1_000_000,
    unit: 'count',
    doc: 'Simultaneous XMPP streams from one IP address to this host (0 = unlimited); the next one gets policy-violation. A socket from an address already over every host\'s limit is refused before the stream header.',
  }),
  max_connections: int({
    default: 100_000,
    min: 0,
    max: 10_000_000,
    unit: 'count',
    doc: 'Simultaneous XMPP streams to this host (0 = unlimited); the next one gets policy-violation. A socket arriving while the listener holds the sum of every host\'s limit is refused before the stream header.',
  }),
  max_connection_rate_per_ip: int({
    default: 60,
    min: 0,
    max: 1_000_000,
    unit: 'count',
    doc: 'New XMPP connections per minute from one IP address (0 = unlimited), a token bucket holding a minute\'s worth; past it the socket is refused before the stream header (the largest value of all hosts applies there) or, for this host\'s own value, closed with policy-violation at the header.',
  }),
  max_send_buffer: int({
    default: 4 * 1_048_576,
    min: 65_536,
    max: 1_073_741_824,
    unit: 'bytes',
    doc: 'Bytes waiting in a client socket (a slow reader) beyond which the connection is closed instead of buffering without end. Until the header names the host, the first host\'s value applies.',
  }),
  max_roster_size: int({
    default: 1_000,
    min: 1,
    max: 1_000_000,
    unit: 'count',
    doc: 'Most items in one user\'s roster. A roster set adding one more gets not-allowed (RFC 6121 §2.3.3); a subscription request that would add one is dropped.',
  }),
  auth_failure_delay_ms: int({
    default: 1_000,
    min: 0,
    max: 60_000,
    unit: 'ms',
    doc: 'Delay before a SASL failure is answered, doubled for each further failure from the same IP address within 10 minutes (up to 16 x), while the connection reads nothing (0 = none). Slows password guessing from one address.',
  }),
  resource_conflict: oneOf({
    values: ['kick_old'] as const,
    default: 'kick_old',
    doc: 'What binding an already bound full JID does: kick_old closes the old session with stream error conflict (ejabberd acceptnew, Prosody kick_old).',
  }),
  ...streamMgmtFields,
});
