/**
 * The config reference (docs/config.md), generated from the schema so the two cannot drift:
 * `npm run docs:config` rewrites the file and a test fails when it is stale.
 */
import { describe, type Opt } from './dsl.js';
import { rootSchema } from './schema/root.js';

function fmtDefault(opt: Opt): string {
  switch (opt.kind) {
    case 'obj':
    case 'map':
    case 'list':
      return '';
    default: {
      if (opt.kind === 'str' && opt.secret && opt.default !== null) return '(secret)';
      return `\`${JSON.stringify(opt.default)}\``;
    }
  }
}

function rows(opt: Opt, path: string, out: string[]): void {
  if (opt.kind === 'obj') {
    if (opt.optional) out.push(`| \`${path}\` | ${describe(opt)} | absent | ${opt.doc} |`);
    for (const [k, f] of Object.entries(opt.fields)) rows(f, path ? `${path}.${k}` : k, out);
    return;
  }
  if (opt.kind === 'map') {
    out.push(`| \`${path}\` | ${describe(opt)} | | ${opt.doc} |`);
    rows(opt.value, `${path}.<${opt.key.replace(/ /g, '_')}>`, out);
    return;
  }
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  out.push(`| \`${path}\` | ${cell(describe(opt))} | ${fmtDefault(opt)} | ${cell(opt.doc)} |`);
}

export function renderReference(): string {
  const out: string[] = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema by `npm run docs:config`; a test fails when this file is stale. -->',
    '',
    'Vigil reads one YAML file (`--config FILE`, default: the embedded `config/default.yaml`). Unknown keys are',
    'errors. Every key can be overridden from the environment: `VIGIL_` + the key path upper-cased with `__`',
    'between segments, e.g. `VIGIL_LISTENERS__HTTP__PORT=9090`, `VIGIL_HOSTS__LOCALHOST__PING__PING_INTERVAL=5`;',
    '`VIGIL_API_TOKEN` sets `api.token`. Values are read as YAML scalars. `vigil config check` prints the result.',
    '',
    '| key | type | default | description |',
    '| --- | --- | --- | --- |',
  ];
  rows(rootSchema, '', out);
  out.push('');
  return out.join('\n');
}
