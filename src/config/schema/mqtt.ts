/**
 * Per host MQTT options (the MQTT issues own this file). Every option once, with default, unit and
 * doc; docs/config.md is generated from it. Seconds and bytes carry their unit in the DSL.
 */
import { bool, int, listOf, mapOf, obj, oneOf, str } from '../dsl.js';

export const aclRuleSchema = obj('One ACL rule; the first rule whose action, user and client match decides.', {
  permission: oneOf({ values: ['allow', 'deny'] as const, default: 'deny', doc: 'What a matching rule decides.' }),
  action: oneOf({
    values: ['publish', 'subscribe', 'all'] as const,
    default: 'all',
    doc: 'Which operation the rule is about.',
  }),
  topic: str({
    default: '#',
    doc: 'Topic filter the rule covers (+ and # wildcards; %u = username, %c = client id). A subscription matches when its filter lies inside this filter.',
  }),
  username: str({ default: '*', doc: 'Username glob (* = any, including anonymous).' }),
  client_id: str({ default: '*', doc: 'Client id glob (* = any).' }),
});

export const mqttSchema = obj('MQTT broker options for this host.', {
  allow_anonymous: bool({
    default: false,
    doc: 'Accept CONNECT without a username. Otherwise the username and password must match a user of this host.',
  }),
  max_keepalive: int({
    default: 0,
    min: 0,
    max: 65_535,
    unit: 's',
    doc: 'Largest Keep Alive accepted (0 = any). v5 clients asking more, or 0, are told this value as Server Keep Alive [MQTT-3.2.2-21]; v3 clients asking more, or 0, are refused with return code 2 (as Mosquitto does).',
  }),
  max_packet_size: int({
    default: 1_048_576,
    min: 64,
    max: 268_435_460,
    unit: 'bytes',
    doc: 'Largest packet accepted from a client (announced to v5 clients as Maximum Packet Size); a larger one closes the connection (v5: DISCONNECT 0x95). Until CONNECT names the host, the default host\'s value applies.',
  }),
  connect_timeout: int({
    default: 15,
    min: 1,
    max: 3_600,
    unit: 's',
    doc: 'Seconds a new connection may take to send CONNECT before it is closed. The host is not known before CONNECT, so the value of the default host (the first one) applies to the listener.',
  }),
  max_connections_per_ip: int({
    default: 1_024,
    min: 0,
    max: 1_000_000,
    unit: 'count',
    doc: 'Most simultaneous connections from one IP address to this host (0 = no limit); past it CONNACK 3 / v5 0x9F. Generous by default for fleets behind NAT.',
  }),
  max_connections: int({
    default: 100_000,
    min: 0,
    max: 10_000_000,
    unit: 'count',
    doc: 'Most simultaneous MQTT clients of this host (0 = no limit); past it CONNACK 3 / v5 0x97. The listener refuses a socket while it holds the sum of every host\'s limit (before CONNECT too).',
  }),
  max_connection_rate_per_ip: int({
    default: 0,
    min: 0,
    max: 1_000_000,
    unit: 'count',
    doc: 'New MQTT connections per minute from one IP address (0 = no limit, the default: a fleet behind one carrier-grade NAT reconnecting after a network blip must not be refused; the listener-wide max_conn_rate bounds a storm), a token bucket holding a minute\'s worth: checked when the socket opens (largest value of all hosts) and at CONNECT for this host (CONNACK 3 / v5 0x9F).',
  }),
  max_subscriptions: int({
    default: 1_000,
    min: 1,
    max: 1_000_000,
    unit: 'count',
    doc: 'Most subscriptions one client session holds; a SUBSCRIBE adding one more gets the failure code for that filter (v3 0x80, v5 0x97 Quota exceeded).',
  }),
  auth_failure_delay_ms: int({
    default: 1_000,
    min: 0,
    max: 60_000,
    unit: 'ms',
    doc: 'Delay before a CONNECT refused for bad or missing credentials is answered, doubled for each further failure from the same IP address within 10 minutes (up to 16 x), while the connection reads nothing (0 = none).',
  }),
  max_inflight: int({
    default: 64,
    min: 1,
    max: 65_535,
    unit: 'count',
    doc: 'Outbound QoS 1/2 messages awaiting acknowledgement per client; a v5 client Receive Maximum wins when smaller.',
  }),
  max_mqueue_len: int({
    default: 1_000,
    min: 0,
    max: 1_000_000,
    unit: 'count',
    doc: 'Messages queued per session, for an offline persistent session or beyond the inflight window (0 = no queue). When full, a queued QoS 0 message goes first, then the oldest; every drop is counted.',
  }),
  max_pending: int({
    default: 0,
    min: 0,
    max: 1_000_000,
    unit: 'count',
    doc: 'Deprecated alias of max_mqueue_len (0 = unset): when set, the smaller of the two applies.',
  }),
  backpressure_high_water: int({
    default: 500,
    min: 0,
    max: 1_000_000,
    unit: 'count',
    doc: 'QoS 1/2 back-pressure: when routing leaves an online subscriber with this many queued messages, the publisher is paused (its socket is not read) until the queues it fed fall to backpressure_low_water (0 = off). At most half of max_mqueue_len applies.',
  }),
  backpressure_low_water: int({
    default: 100,
    min: 0,
    max: 1_000_000,
    unit: 'count',
    doc: 'Queue length at or below which the publishers paused by a subscriber read on (at most half of the high-water mark applies).',
  }),
  backpressure_timeout: int({
    default: 5,
    min: 1,
    max: 3_600,
    unit: 's',
    doc: 'A subscriber that keeps its queue above the high-water mark this long pauses its publishers no more: they read on and the queue drop rules apply, so a subscriber that never acknowledges cannot stall publishers. Keep it below the Keep Alive of your publishers.',
  }),
  mqueue_store_qos0: bool({ default: true, doc: 'Queue QoS 0 messages too (otherwise a QoS 0 message for an offline or saturated session is dropped and counted).' }),
  mqueue_priorities: mapOf({
    key: 'topic name',
    value: int({ default: 1, min: 1, max: 255, unit: 'none', doc: 'Priority of the topic (higher leaves the queue first).' }),
    default: {},
    doc: 'Exact topics whose queued messages leave the queue first (higher priority first, FIFO inside a priority).',
  }),
  mqueue_default_priority: oneOf({
    values: ['lowest', 'highest'] as const,
    default: 'lowest',
    doc: 'Priority of the topics not listed in mqueue_priorities.',
  }),
  max_awaiting_rel: int({
    default: 100,
    min: 0,
    max: 65_535,
    unit: 'count',
    doc: 'Inbound QoS 2 messages awaiting PUBREL per session (0 = no limit); past it v5 PUBREC 0x97 (Quota exceeded), v3 the message is dropped and counted.',
  }),
  await_rel_timeout: int({
    default: 300,
    min: 1,
    max: 86_400,
    unit: 's',
    doc: 'An inbound QoS 2 packet id whose PUBREL does not come within this is forgotten (counted).',
  }),
  session_expiry: int({
    default: 7_200,
    min: 0,
    max: 4_294_967_295,
    unit: 's',
    doc: 'How long a v3 persistent session (clean session 0) outlives its connection (as EMQX; emqttd used 48 h). 0 = it ends with the connection.',
  }),
  max_session_expiry: int({
    default: 0,
    min: 0,
    max: 4_294_967_295,
    unit: 's',
    doc: 'Cap on the v5 Session Expiry Interval a client asks (0 = no cap).',
  }),
  retry_interval: int({
    default: 0,
    min: 0,
    max: 86_400,
    unit: 's',
    doc: 'v3 clients only: resend unacknowledged QoS 1/2 messages with DUP after this, doubling per resend (0 = off; v5 never resends inside a connection [MQTT-4.4.0-1]).',
  }),
  max_send_buffer: int({
    default: 4_194_304,
    min: 65_536,
    max: 1_073_741_824,
    unit: 'bytes',
    doc: 'Bytes waiting in a client socket beyond which QoS 0 messages to it are dropped (a slow reader must not grow memory without bound; QoS 1/2 are bounded by the inflight window and max_mqueue_len).',
  }),
  max_topic_alias: int({
    default: 10,
    min: 0,
    max: 65_535,
    unit: 'count',
    doc: 'Topic Alias Maximum announced to v5 clients (0 = topic aliases refused). Each alias holds a topic name of up to 64 KiB per connection, hence the small default (Mosquitto uses 10 too).',
  }),
  shared_subscription_strategy: oneOf({
    values: ['round_robin', 'random', 'sticky', 'hash_clientid'] as const,
    default: 'round_robin',
    doc: 'Which member of a shared subscription group ($share/{name}/{filter}, MQTT 5.0 §4.8.2) gets a message: round_robin in turn, random, sticky (the same member until it leaves), hash_clientid (by the publisher\'s client id). Members connected to this node come first.',
  }),
  topic_alias_out: bool({
    default: true,
    doc: 'Send Topic Aliases to v5 clients that announce a Topic Alias Maximum (MQTT 5.0 §3.3.2.3.4): a topic goes in full once, then as its alias; the least recently used alias is replaced when all are taken.',
  }),
  max_qos: int({ default: 2, min: 0, max: 2, unit: 'none', doc: 'Highest QoS granted to subscriptions and accepted in PUBLISH.' }),
  retain_available: bool({ default: true, doc: 'Accept retained messages (v5 clients are told Retain Available).' }),
  acl_default: oneOf({
    values: ['allow', 'deny'] as const,
    default: 'allow',
    doc: 'Decision when no ACL rule matches.',
  }),
  acl: listOf({
    item: aclRuleSchema,
    default: [],
    doc: 'ACL rules, first match wins. A denied subscription gets SUBACK 0x80 (v5: 0x87); a denied publish is dropped (v5: PUBACK/PUBREC 0x87).',
  }),
});
