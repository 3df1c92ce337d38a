/** Per host MQTT options. The MQTT issues own this file. */
import { obj } from '../dsl.js';

export const mqttSchema = obj('MQTT broker options for this host.', {});
