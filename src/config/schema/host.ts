/** One virtual host: an XMPP domain, and the realm MQTT clients map to. */
import { obj, oneOf } from '../dsl.js';
import { mqttSchema } from './mqtt.js';
import { pingSchema } from './ping.js';
import { xmppSchema } from './xmpp.js';

export const mqttProbeSchema = oneOf({
  values: ['keepalive', 'pingreq'] as const,
  default: 'keepalive',
  doc: 'How idle MQTT clients are checked: keepalive = the spec rule, no packet for 1.5 x Keep Alive [MQTT-3.1.2-24]; pingreq = send PINGREQ after ping_interval and expect PINGRESP within ping_ack_timeout (only for fleets whose clients answer it: Paho Python, Netty and libmosquitto 2.0.x answer; libmosquitto 2.1 and later disconnect; mqtt.js ignores it).',
});

export const hostSchema = obj('Settings of one virtual host.', {
  ping: pingSchema,
  mqtt_probe: mqttProbeSchema,
  xmpp: xmppSchema,
  mqtt: mqttSchema,
});
