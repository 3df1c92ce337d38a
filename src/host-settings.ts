/**
 * Host settings: the per host liveness settings that can change at runtime (ejabberd mod_ping's
 * `send_pings`, `ping_interval`, `ping_ack_timeout`, `timeout_action`, plus `mqtt_probe`, and the
 * XMPP stream management and CSI options of schema/stream-mgmt.ts), read and changed through REST
 * `GET/PATCH /v1/hosts/{host}/config`.
 *
 * Declared once: they are the config file's own options (schema/ping.ts, schema/host.ts), gathered
 * here in `hostSettingsSchema`; the file, a PATCH and a stored override are all checked by the config
 * DSL, a PATCH and a stored override by the same `parseHostSettingsPatch`.
 *
 * The seam is `HostSettingsTable`: what a host's settings are now, how they change, and who hears of
 * a change. The liveness registry is one listener (the composition root wires it): a change re-arms
 * live timers, nothing is dropped.
 *   - Single node: `createLocalHostSettings`: the file's values, then the overrides that
 *     `PATCH ?persist=true` stored in the embedded store (merged over earlier ones), replayed at
 *     startup. A stored override that no longer validates is ignored with a warning, never fatal.
 *   - Cluster (issue 15) replaces it: overrides in Redis, and a PATCH on any node reaches the
 *     listeners of every node, so each node re-arms its own timers.
 */
import type { Logger } from 'pino';
import { type Infer, obj, validatePartial } from './config/dsl.js';
import { mqttProbeSchema } from './config/schema/host.js';
import { pingSchema } from './config/schema/ping.js';
import { streamMgmtFields } from './config/schema/stream-mgmt.js';
import type { Config } from './config/types.js';
import { VigilError } from './errors.js';
import type { HostConfigRepo } from './store/types.js';

/** The runtime settings, flat, each the file's own option declaration. */
export const hostSettingsSchema = obj('Runtime liveness settings of one host.', {
  ...pingSchema.fields,
  mqtt_probe: mqttProbeSchema,
  // XEP-0198 / XEP-0352 (issue 17): the file's `xmpp.` options of that name.
  ...streamMgmtFields,
});

/** The stream management and CSI part of a host's settings (what the XMPP engine reads). */
export type StreamMgmtSettings = Pick<HostSettings, keyof typeof streamMgmtFields>;

/** A host's settings: exactly what the liveness core runs a host with (LivenessHostConfig). */
export type HostSettings = Infer<typeof hostSettingsSchema>;
export type HostSettingsPatch = Partial<HostSettings>;

/**
 * The one validation of a change (REST body, stored override): only the keys present, each by its
 * option; an unknown key is an error. Throws ConfigValueError naming the key.
 */
export function parseHostSettingsPatch(raw: Record<string, unknown>): HostSettingsPatch {
  return validatePartial(hostSettingsSchema, raw);
}

export type HostSettingsListener = (host: string, settings: HostSettings) => void;

export interface HostSettingsTable {
  /** Every host with settings (the configured ones), sorted by name. */
  all(): Record<string, HostSettings>;
  /** A host's settings in force, or undefined for a host that is not configured. */
  get(host: string): HostSettings | undefined;
  /** The overrides stored for a host (a persisted PATCH), or null when none apply. */
  persisted(host: string): HostSettingsPatch | null;
  /**
   * Change a configured host's settings (a validated patch; unknown host: VigilError
   * VIGIL_ERR_UNKNOWN_HOST). `persist` also stores the patch, merged over earlier overrides, so it
   * survives a restart. Every listener hears the settings now in force before this resolves.
   */
  change(host: string, patch: HostSettingsPatch, opts: { persist: boolean }): Promise<HostSettings>;
  /** Hear every change (this node's and, in a cluster, every other node's). Returns unsubscribe. */
  subscribe(listener: HostSettingsListener): () => void;
}

/** The settings the config file gives each host (before any runtime change). */
export function fileHostSettings(config: Pick<Config, 'hosts'>): Record<string, HostSettings> {
  const out: Record<string, HostSettings> = {};
  for (const host of Object.keys(config.hosts).sort()) {
    const h = config.hosts[host]!;
    const sm = Object.fromEntries(Object.keys(streamMgmtFields).map((k) => [k, h.xmpp[k as keyof StreamMgmtSettings]])) as StreamMgmtSettings;
    out[host] = { ...h.ping, mqtt_probe: h.mqtt_probe, ...sm };
  }
  return out;
}

export interface LocalHostSettingsDeps {
  config: Pick<Config, 'hosts'>;
  /** Where persisted overrides live (the embedded store's host_config table). */
  overrides: HostConfigRepo;
  logger: Logger;
}

/** Single node: file values, then the stored overrides; changes go to this process's listeners. */
export function createLocalHostSettings(deps: LocalHostSettingsDeps): HostSettingsTable {
  const { overrides, logger } = deps;
  const current = fileHostSettings(deps.config);
  const listeners = new Set<HostSettingsListener>();

  /** The stored overrides of a host, validated; null when none or when they no longer fit the schema. */
  const stored = (host: string, log: boolean): HostSettingsPatch | null => {
    const raw = overrides.get(host);
    if (!raw) return null;
    try {
      return parseHostSettingsPatch(raw);
    } catch (err) {
      if (log) logger.warn({ event: 'host_config_override_ignored', host, err: String(err) }, 'stored override is invalid');
      return null;
    }
  };

  for (const host of Object.keys(overrides.all())) {
    const base = current[host];
    if (!base) {
      logger.warn({ event: 'host_config_override_ignored', host }, 'stored override for a host not in the config');
      continue;
    }
    const patch = stored(host, true);
    if (patch) current[host] = { ...base, ...patch };
  }

  return {
    all: () => ({ ...current }),
    get: (host) => current[host],
    persisted: (host) => (current[host] ? stored(host, false) : null),
    async change(host, patch, opts) {
      const base = current[host];
      if (!base) throw new VigilError('VIGIL_ERR_UNKNOWN_HOST', host);
      // Stored first: a change that cannot be kept is not applied either.
      if (opts.persist) overrides.put(host, { ...(overrides.get(host) ?? {}), ...patch });
      const next: HostSettings = { ...base, ...patch };
      current[host] = next;
      for (const l of listeners) l(host, next);
      return next;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
