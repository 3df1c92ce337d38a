/**
 * Per host MQTT policy: the validated `mqtt.*` options of a host plus its compiled ACL, in the
 * shape the channel reads (channel.ts HostPolicy). Built once per host config and rebuilt when the
 * config changes. The options are validated once, by the config loader; nothing here re-checks.
 */
import { compileAcl } from './acl.js';
import type { HostPolicy, MqttHostOptions } from './channel.js';

export function hostPolicy(host: string, mqtt: MqttHostOptions): HostPolicy {
  return { host, mqtt, acl: compileAcl(mqtt.acl, mqtt.acl_default) };
}
