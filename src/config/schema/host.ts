/** One virtual host: an XMPP domain, and the realm MQTT clients map to. */
import { obj, oneOf } from '../dsl.js';
import { mqttSchema } from './mqtt.js';
import { pingSchema } from './ping.js';
import { xmppSchema } from './xmpp.js';

export const mqttProbeSchema = oneOf({
  values: ['keepalive', 'pingreq', 'ws_ping'] as const,
  default: 'keepalive',
  doc: 'How idle MQTT clients are checked: keepalive = the spec rule, no packet for 1.5 x Keep Alive [MQTT-3.1.2-24]; pingreq = send PINGREQ after ping_interval and expect PINGRESP within ping_ack_timeout (only for fleets whose clients answer it: Paho Python, Netty and libmosquitto 2.0.x answer; libmosquitto 2.1 and later disconnect; mqtt.js ignores it); ws_ping = clients over WebSocket get a WebSocket Ping after ping_interval and timeout_action after ping_ack_timeout (RFC 6455 §5.5.2: every WebSocket client answers, browsers by themselves), which replaces the Keep Alive rule for them; clients over TCP and TLS keep the Keep Alive rule.',
});

export const xmppProbeSchema = oneOf({
  values: ['iq', 'ws_ping'] as const,
  default: 'iq',
  doc: 'How idle XMPP clients are probed: iq = XEP-0199 ping over every transport; ws_ping = clients over WebSocket (RFC 7395) get a WebSocket Ping instead and its Pong is the answer, other clients keep the XEP-0199 ping.',
});

export const hostSchema = obj('Settings of one virtual host.', {
  ping: pingSchema,
  mqtt_probe: mqttProbeSchema,
  xmpp_probe: xmppProbeSchema,
  xmpp: xmppSchema,
  mqtt: mqttSchema,
});
