/** Per host liveness options: ejabberd mod_ping's, same names, same defaults (XEP-0199 §4.1). */
import { bool, int, obj, oneOf } from '../dsl.js';

export const pingSchema = obj('Liveness probing of idle clients (ejabberd mod_ping semantics).', {
  send_pings: bool({
    default: true,
    doc: 'Probe a client that has been idle for ping_interval (XMPP: XEP-0199 IQ ping; MQTT: see mqtt_probe).',
  }),
  ping_interval: int({
    default: 60,
    min: 1,
    max: 86_400,
    unit: 's',
    doc: 'Seconds of client inactivity before a probe is sent. Any inbound stanza or packet restarts it.',
  }),
  ping_ack_timeout: int({
    default: 32,
    min: 1,
    max: 3_600,
    unit: 's',
    doc: 'Seconds to wait for the answer to a probe before timeout_action applies.',
  }),
  timeout_action: oneOf({
    values: ['none', 'kill'] as const,
    default: 'kill',
    doc: 'What an unanswered probe (or an MQTT keepalive timeout) does: none = report only (ping_timeout event), kill = close the connection.',
  }),
});
