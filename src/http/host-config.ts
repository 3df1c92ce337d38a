/**
 * Runtime per host liveness settings (REST `GET/PATCH /v1/hosts/{host}/config`).
 *
 * The five settings are the config file's own options (src/config/schema/ping.ts, host.ts), so a
 * PATCH is validated by the same DSL `validate` as the file, and the request JSON schema is derived
 * from the same declarations (ranges, enums) instead of being written twice.
 * Persisted overrides (`?persist=true`) are stored flat in `store.hostConfig`
 * (`{ping_interval: 5, mqtt_probe: 'pingreq'}`), merged over earlier ones; the composition root
 * replays them at startup (src/host-settings.ts applyStoredHostConfig).
 */
import { ConfigValueError, type Opt, validate } from '../config/dsl.js';
import { mqttProbeSchema } from '../config/schema/host.js';
import { pingSchema } from '../config/schema/ping.js';
import type { Config } from '../config/types.js';
import type { LivenessHostConfig, LivenessRegistry } from '../liveness/types.js';
import { fileHostSettings } from '../host-settings.js';

export type HostSettingName = keyof LivenessHostConfig;
export type HostConfigPatch = Partial<LivenessHostConfig>;

/** Each runtime setting and its option declaration in the config schema. */
export const HOST_SETTINGS: Record<HostSettingName, Opt> = {
  send_pings: pingSchema.fields.send_pings,
  ping_interval: pingSchema.fields.ping_interval,
  ping_ack_timeout: pingSchema.fields.ping_ack_timeout,
  timeout_action: pingSchema.fields.timeout_action,
  mqtt_probe: mqttProbeSchema,
};
const NAMES = Object.keys(HOST_SETTINGS) as HostSettingName[];

/** JSON schema of one scalar option (for request/response schemas and /openapi.json). */
export function jsonSchemaOf(opt: Opt): Record<string, unknown> {
  const doc = { description: opt.doc };
  switch (opt.kind) {
    case 'int':
    case 'num':
      return {
        type: opt.kind === 'int' ? 'integer' : 'number',
        ...(opt.min !== undefined ? { minimum: opt.min } : {}),
        ...(opt.max !== undefined ? { maximum: opt.max } : {}),
        ...doc,
      };
    case 'bool':
      return { type: 'boolean', ...doc };
    case 'enum':
      return { type: 'string', enum: [...opt.values], ...doc };
    case 'str':
      return opt.nullable ? { type: ['string', 'null'], ...doc } : { type: 'string', ...doc };
    default:
      throw new Error(`jsonSchemaOf: ${opt.kind} options are not runtime settings`);
  }
}

const props = () => Object.fromEntries(NAMES.map((n) => [n, jsonSchemaOf(HOST_SETTINGS[n])]));

/** PATCH body: any subset of the settings, at least one, nothing else. */
export const hostConfigPatchSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: props(),
} as const;

/** Some settings (stored overrides). */
export const hostSettingsPartialSchema = {
  type: 'object',
  additionalProperties: false,
  properties: props(),
} as const;

/** The full settings of a host. */
export const hostSettingsSchema = {
  type: 'object',
  additionalProperties: false,
  required: NAMES,
  properties: props(),
} as const;

/** The DSL validator, seen through a plain signature (Infer<Opt> is too deep to instantiate). */
const validateOpt = validate as unknown as (opt: Opt, raw: unknown, path: string[]) => unknown;

/** Validate a patch with the config DSL. Throws ConfigValueError naming the field. */
export function validatePatch(raw: Record<string, unknown>): HostConfigPatch {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    const opt = HOST_SETTINGS[name as HostSettingName];
    if (!opt) throw new ConfigValueError([name], value, `one of the settings ${NAMES.join(', ')}`);
    if (value === undefined) continue;
    out[name] = validateOpt(opt, value, [name]);
  }
  return out as HostConfigPatch;
}

/** Stored overrides after a persisted PATCH: the patch merged over the earlier ones. */
export function toOverrides(patch: HostConfigPatch, base: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...base, ...patch };
}

/** The settings found in stored overrides, validated (unknown keys ignored). Throws ConfigValueError. */
export function fromOverrides(overrides: Record<string, unknown>): HostConfigPatch {
  const known = Object.entries(overrides).filter(([k]) => k in HOST_SETTINGS);
  return validatePatch(Object.fromEntries(known));
}


/** A host is known when the file declares it or the registry tracks it. */
export function hostSettings(
  deps: { config: Pick<Config, 'hosts'>; liveness: Pick<LivenessRegistry, 'hostConfig'> },
  host: string,
): LivenessHostConfig | undefined {
  return deps.liveness.hostConfig(host) ?? fileHostSettings(deps.config, host);
}
