/**
 * The `vigil` command line: `serve`, `config check`, `user add|del|list`. Every command takes
 * `--config FILE` and `--help`. Exit codes: 0 ok, 1 error, 2 usage.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.js';
import { configCheckCommand } from './config-check.js';
import type { CliCommand, CliContext } from './context.js';
import { SERVE_HELP, serveCommand } from './serve.js';
import { userCommand } from './user.js';

export const USAGE = `Usage: vigil <command> [--config FILE]

Commands:
  serve [--workers N]           run the server (what npm start runs)
  config check                  validate the configuration and print the effective settings
  user add JID --password PW    create a user (--password - reads it from stdin)
  user passwd JID --password PW set a new password
  user del JID                  delete a user
  user import FILE              create users from CSV jid,password or JSON lines
  user list [HOST]              list users, one JID a line

Options:
  --config FILE   configuration file (default: the embedded config/default.yaml)
  --help          help for a command

Environment: VIGIL_<KEY__PATH> overrides any config key (see docs/config.md).`;

const COMMANDS: Record<string, { run: CliCommand; help: string }> = {
  serve: { run: serveCommand, help: SERVE_HELP },
  config: {
    run: (argv, ctx) => {
      if (argv[0] !== 'check') {
        ctx.err('Usage: vigil config check [--config FILE]');
        return Promise.resolve(2);
      }
      return configCheckCommand(argv.slice(1), ctx);
    },
    help: 'Usage: vigil config check [--config FILE]\n\nValidate the configuration and print the effective settings.',
  },
  user: { run: userCommand, help: '' },
};

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  env?: NodeJS.ProcessEnv;
}

const stdio: CliIo = { out: (l) => console.log(l), err: (l) => console.error(l) };

export async function runCli(argv: string[], io: CliIo = stdio): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: false,
    });
  } catch (err) {
    io.err(String((err as Error).message));
    return 2;
  }
  const name = parsed.positionals[0];
  if (name === undefined) {
    (parsed.values.help ? io.out : io.err)(USAGE);
    return parsed.values.help ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`vigil: unknown command ${JSON.stringify(name)}\n\n${USAGE}`);
    return 2;
  }
  // Sub-commands see their own arguments minus --config (handled here), --help included.
  const own = stripConfig(argv.slice(argv.indexOf(name) + 1));
  if (parsed.values.help && command.help) {
    io.out(command.help);
    return 0;
  }
  let ctx: CliContext;
  try {
    const file = typeof parsed.values.config === 'string' ? parsed.values.config : null;
    ctx = { loaded: loadConfig({ file, env: io.env ?? process.env }), out: io.out, err: io.err };
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`vigil: ${err.code}: ${err.message}`);
      return 1;
    }
    throw err;
  }
  return command.run(own, ctx);
}

function stripConfig(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--config' || a === '-c') i++;
    else if (!a.startsWith('--config=')) out.push(a);
  }
  return out;
}
