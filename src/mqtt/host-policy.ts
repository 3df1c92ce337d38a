/**
 * Per host MQTT policy: the validated `mqtt.*` options of a host plus its compiled ACL.
 * Built once per host config and rebuilt when the config changes.
 */
import type { Infer } from '../config/dsl.js';
import type { mqttSchema } from '../config/schema/mqtt.js';
import { compileAcl } from './acl.js';
import type { HostPolicy } from './channel.js';

export type MqttHostConfig = Infer<typeof mqttSchema>;

export function hostPolicy(host: string, mqtt: MqttHostConfig): HostPolicy {
  return { host, mqtt, acl: compileAcl(mqtt.acl, mqtt.acl_default) };
}
