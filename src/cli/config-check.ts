/** `vigil config check`: validate the configuration and print the effective result (secrets hidden). */
import { stringify } from 'yaml';
import type { Opt } from '../config/dsl.js';
import { rootSchema } from '../config/schema/root.js';
import type { CliCommand } from './context.js';

/** The value with every option declared `secret` (api.token, cluster.redis.password) shown as '(set)'. */
export function hideSecrets(opt: Opt, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (opt.kind === 'str') return opt.secret ? '(set)' : value;
  if (opt.kind === 'obj' && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, opt.fields[k] ? hideSecrets(opt.fields[k], x) : x]));
  }
  if (opt.kind === 'map' && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, x]) => [k, hideSecrets(opt.value, x)]));
  }
  return value;
}

export const configCheckCommand: CliCommand = (_argv, ctx) => {
  const { config, file, dataDir } = ctx.loaded;
  ctx.out(`# ${file}: valid`);
  ctx.out(`# data_dir resolves to ${dataDir}`);
  ctx.out(stringify(hideSecrets(rootSchema, config)).trimEnd());
  return Promise.resolve(0);
};
