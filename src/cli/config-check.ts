/** `vigil config check`: validate the configuration and print the effective result (secrets hidden). */
import { stringify } from 'yaml';
import { redactSecrets } from '../config/dsl.js';
import { rootSchema } from '../config/schema/root.js';
import type { CliCommand } from './context.js';

export const configCheckCommand: CliCommand = (_argv, ctx) => {
  const { config, file, dataDir } = ctx.loaded;
  const shown = redactSecrets(rootSchema, config);
  ctx.out(`# ${file}: valid`);
  ctx.out(`# data_dir resolves to ${dataDir}`);
  ctx.out(stringify(shown).trimEnd());
  return Promise.resolve(0);
};
