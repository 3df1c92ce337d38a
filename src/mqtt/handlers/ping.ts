/**
 * PINGREQ / PINGRESP (3.1.1 §3.12-3.13, 5.0 §3.12-3.13). PINGREQ is answered with PINGRESP
 * [MQTT-3.12.4-1]; its liveness value (restarting the keepalive timer) comes from the connection
 * layer touching the liveness handle on every packet. A PINGRESP from the client answers a server
 * PINGREQ (mqtt_probe = pingreq, outside the spec, opt-in per host).
 */
import type { Step } from '../channel.js';

const PINGRESP: Step = { effects: [{ type: 'send', packet: { cmd: 'pingresp' } }] };
const PONG: Step = { effects: [{ type: 'pong' }] };

export const handlePingreq = (): Step => PINGRESP;
export const handlePingresp = (): Step => PONG;
