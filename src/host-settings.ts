/**
 * Per host runtime settings for the liveness core: the file's values, then overrides persisted by
 * the REST API (`PATCH /v1/hosts/{host}/config?persist=true`), validated again so a stored
 * override that no longer fits the schema is ignored with a warning instead of stopping startup.
 */
import type { Logger } from 'pino';
import { validate } from './config/dsl.js';
import { mqttProbeSchema } from './config/schema/host.js';
import { pingSchema } from './config/schema/ping.js';
import type { Config } from './config/types.js';
import type { LivenessHostConfig } from './liveness/types.js';
import type { Store } from './store/types.js';

/** The settings a host has in the file (before runtime changes). */
export function fileHostSettings(config: Pick<Config, 'hosts'>, host: string): LivenessHostConfig | undefined {
  const h = config.hosts[host];
  return h && { ...h.ping, mqtt_probe: h.mqtt_probe };
}

export function livenessHostConfigs(config: Pick<Config, 'hosts'>): Record<string, LivenessHostConfig> {
  const out: Record<string, LivenessHostConfig> = {};
  for (const host of Object.keys(config.hosts)) out[host] = fileHostSettings(config, host)!;
  return out;
}

/** Split a LivenessHostConfig patch into the schema's shape and validate it; throws ConfigValueError. */
export function validateHostPatch(base: LivenessHostConfig, patch: Record<string, unknown>): LivenessHostConfig {
  const { mqtt_probe, ...ping } = { ...base, ...patch };
  return {
    ...validate(pingSchema, ping, ['ping']),
    mqtt_probe: validate(mqttProbeSchema, mqtt_probe, ['mqtt_probe']),
  };
}

export function applyStoredHostConfig(
  hosts: Record<string, LivenessHostConfig>,
  store: Store,
  logger: Logger,
): Record<string, LivenessHostConfig> {
  const out = { ...hosts };
  for (const [host, overrides] of Object.entries(store.hostConfig.all())) {
    const base = out[host];
    if (!base) {
      logger.warn({ event: 'host_config_override_ignored', host }, 'stored override for a host not in the config');
      continue;
    }
    try {
      out[host] = validateHostPatch(base, overrides);
    } catch (err) {
      logger.warn({ event: 'host_config_override_ignored', host, err: String(err) }, 'stored override is invalid');
    }
  }
  return out;
}
