/**
 * Loading the configuration: embedded defaults (config/default.yaml shipped with Vigil) or the file
 * given with --config, then VIGIL_* environment overrides, validated against the one schema.
 * A bad file fails fast naming the file, the key path, the value and what was expected.
 *
 * Environment overrides: VIGIL_<PATH> with path segments joined by "__", upper-cased; host names
 * are matched case-insensitively with non-alphanumerics as "_". Examples:
 *   VIGIL_DATA_DIR=/var/lib/vigil
 *   VIGIL_LISTENERS__HTTP__PORT=9090
 *   VIGIL_HOSTS__LOCALHOST__PING__PING_INTERVAL=5
 *   VIGIL_API_TOKEN=...            (alias of VIGIL_API__TOKEN)
 * Values are parsed as YAML scalars (numbers, true/false, null, strings).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, parseDocument } from 'yaml';
import type { ErrorCode } from '../errors.js';
import { ConfigValueError, type Opt, validate } from './dsl.js';
import { checkGateways } from './schema/gateways.js';
import { rootSchema } from './schema/root.js';
import type { Config } from './types.js';

export const EMBEDDED_CONFIG = fileURLToPath(new URL('../../config/default.yaml', import.meta.url));

export interface LoadedConfig {
  config: Config;
  /** The file that was read (absolute). */
  file: string;
  /** data_dir resolved against the working directory (absolute). */
  dataDir: string;
}

/**
 * A configuration that cannot be used; the message names file, key path, value and expectation.
 * `VIGIL_ERR_CONFIG_FILE`: the file cannot be read or is not YAML; `VIGIL_ERR_CONFIG_INVALID`: a
 * value does not fit the schema (then `keyPath` names it, when there is one key to blame).
 */
export class ConfigError extends Error {
  constructor(
    readonly code: Extract<ErrorCode, 'VIGIL_ERR_CONFIG_FILE' | 'VIGIL_ERR_CONFIG_INVALID'>,
    readonly file: string,
    message: string,
    readonly keyPath: string | null = null,
  ) {
    super(`${file}: ${message}`);
    this.name = 'ConfigError';
  }
}

const ALIASES: Record<string, string[]> = { VIGIL_API_TOKEN: ['api', 'token'] };

export function loadConfig(opts: { file?: string | null; env?: NodeJS.ProcessEnv } = {}): LoadedConfig {
  const file = resolve(opts.file ?? EMBEDDED_CONFIG);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('VIGIL_ERR_CONFIG_FILE', file, `cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return parseConfig(text, file, opts.env ?? process.env);
}

export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = {}): LoadedConfig {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = e.linePos?.[0];
    throw new ConfigError('VIGIL_ERR_CONFIG_FILE', file, `not valid YAML${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}: ${e.message.split('\n')[0]}`);
  }
  const raw: unknown = doc.toJS() ?? {};
  const merged = applyEnv(raw, env, file);
  let config: Config;
  try {
    config = validate(rootSchema, merged);
    checkGateways(config);
  } catch (err) {
    if (err instanceof ConfigValueError) throw new ConfigError('VIGIL_ERR_CONFIG_INVALID', file, err.message, err.path.join('.'));
    throw err;
  }
  for (const host of Object.keys(config.hosts)) {
    if (!/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(host)) {
      throw new ConfigError('VIGIL_ERR_CONFIG_INVALID', file, `hosts.${host}: got ${JSON.stringify(host)}, expected a lower-case domain name`, `hosts.${host}`);
    }
  }
  if (config.cluster && Object.keys(config.gateways).length > 0) {
    // Gateway rows (issue 19) are kept by one node's table; cluster mode does not share them yet.
    throw new ConfigError('VIGIL_ERR_CONFIG_INVALID', file, 'gateways: not supported together with cluster (yet): run gateways on a node without a cluster section', 'gateways');
  }
  const r = config.cluster?.redis;
  if (r && (r.url === null) === (r.nodes.length === 0)) {
    throw new ConfigError('VIGIL_ERR_CONFIG_INVALID', file, 'cluster.redis: give either url (one Redis) or nodes (Redis Cluster seeds), exactly one of them', 'cluster.redis');
  }
  const dataDir = resolve(config.data_dir);
  return { config, file, dataDir };
}

function envName(segment: string): string {
  return segment.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

function applyEnv(raw: unknown, env: NodeJS.ProcessEnv, file: string): unknown {
  const root: Record<string, unknown> =
    raw && typeof raw === 'object' && !Array.isArray(raw) ? structuredClone(raw as Record<string, unknown>) : {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('VIGIL_') || value === undefined) continue;
    const path = ALIASES[name] ?? resolveEnvPath(name.slice('VIGIL_'.length).split('__'), root);
    if (!path) continue;
    setPath(root, path, parseYaml(value) as unknown, `${name} (environment)`, file);
  }
  return root;
}

/** Map VIGIL_A__B__C segments to real keys by walking the schema; unknown names are ignored. */
function resolveEnvPath(segments: string[], root: Record<string, unknown>): string[] | null {
  let opt: Opt = rootSchema;
  let node: unknown = root;
  const path: string[] = [];
  for (const seg of segments) {
    let key: string | undefined;
    if (opt.kind === 'obj') {
      key = Object.keys(opt.fields).find((k) => envName(k) === seg);
      if (!key) return null;
      opt = opt.fields[key]!;
    } else if (opt.kind === 'map') {
      const existing = node && typeof node === 'object' ? Object.keys(node as object) : [];
      key = existing.find((k) => envName(k) === seg) ?? seg.toLowerCase();
      opt = opt.value;
    } else {
      return null;
    }
    path.push(key);
    node = node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
  }
  return path;
}

function setPath(root: Record<string, unknown>, path: string[], value: unknown, source: string, file: string): void {
  let cur = root;
  for (const key of path.slice(0, -1)) {
    const next = cur[key];
    if (next === undefined || next === null) cur[key] = {};
    else if (typeof next !== 'object' || Array.isArray(next)) {
      throw new ConfigError('VIGIL_ERR_CONFIG_INVALID', file, `${source}: ${path.join('.')} cannot be set, ${key} is not a mapping`);
    }
    cur = cur[key] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}
