/** `vigil config check`: validate the configuration and print the effective result (secrets hidden). */
import { stringify } from 'yaml';
import type { CliCommand } from './context.js';

export const configCheckCommand: CliCommand = (_argv, ctx) => {
  const { config, file, dataDir } = ctx.loaded;
  const shown = { ...config, api: { ...config.api, token: config.api.token === null ? null : '(set)' } };
  ctx.out(`# ${file}: valid`);
  ctx.out(`# data_dir resolves to ${dataDir}`);
  ctx.out(stringify(shown).trimEnd());
  return Promise.resolve(0);
};
