/**
 * `vigil user add|passwd|del|list|import`: manage the accounts XMPP (SASL) and MQTT (CONNECT username/password)
 * clients log in with. argv is what follows `vigil user`.
 *
 * Each run opens the embedded SQLite store in data_dir and closes it; WAL plus busy_timeout let it
 * write while a server has the same database open (src/store/sqlite.ts). Only SCRAM-SHA-1 and
 * SCRAM-SHA-256 credentials are stored (RFC 5802, RFC 7677), never the password.
 *
 * Exit codes: 0 done, 1 error (message on stderr), 2 usage error (usage on stderr).
 */
import { readFile } from 'node:fs/promises';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { passwordProblem } from '../auth/scram.js';
import { makeUserRecord } from '../auth/users.js';
import { VigilError } from '../errors.js';
import { formatJid, type Jid, JidError, normaliseDomain, parseJid } from '../jid.js';
import { existingApiToken } from '../http/token.js';
import { openSqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/types.js';
import { systemClock } from '../time/clock.js';
import { type CliCommand, type CliContext, CommandError } from './context.js';
import { callServer, runningServer } from './server-link.js';
import { IMPORT_USAGE, userImport } from './user-import.js';

const USAGE = {
  user: `Usage: vigil user <command> [options]

Commands:
  add JID --password PW       create an account (JID = user@host, host configured in hosts)
  passwd JID --password PW    set a new password for an existing account
  del JID                     delete an account and its roster
  list [HOST]                 list accounts, one JID per line, sorted by host then user
  import FILE                 create many accounts (CSV jid,password or JSON lines; idempotent)

Run "vigil user <command> --help" for the options of one command.`,
  add: `Usage: vigil user add JID (--password PW | --password - | --password-file FILE)

Create the account JID (user@host); host must be one of the configured hosts.
  --password PW          the password (visible in the process list: prefer the two forms below)
  --password -           read the password from standard input
  --password-file FILE   read the password from FILE
One trailing newline is removed from a password read from stdin or a file. Empty passwords are refused.
Stored as SCRAM-SHA-1 and SCRAM-SHA-256 credentials (4096 iterations), never in clear.`,
  passwd: `Usage: vigil user passwd JID (--password PW | --password - | --password-file FILE)

Replace the credentials of the existing account JID (user@host); password options as for "add".`,
  del: `Usage: vigil user del JID

Delete the account JID (user@host) and its roster. When a server runs on the same data_dir, the
deletion goes through its REST API so that the account's XMPP and MQTT sessions end at once
(reason account_deleted).`,
  list: `Usage: vigil user list [HOST]

List accounts, one JID per line, sorted by host then user; only those of HOST when given.`,
  import: IMPORT_USAGE,
} as const;

type Verb = Exclude<keyof typeof USAGE, 'user'>;

/** Wrong invocation: exit 2 with the verb's usage. */
class UsageError extends Error {}

const HELP = { help: { type: 'boolean', short: 'h' } } as const;

function parse<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O, maxPositionals: number) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...HELP, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]);
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[maxPositionals])}`);
  }
  return parsed;
}

function configuredHosts(ctx: CliContext): string[] {
  return Object.keys(ctx.loaded.config.hosts).sort();
}

function requireConfiguredHost(ctx: CliContext, host: string): void {
  const hosts = configuredHosts(ctx);
  if (!hosts.includes(host)) {
    const list = hosts.length > 0 ? hosts.join(', ') : '(none)';
    throw new CommandError('VIGIL_ERR_UNKNOWN_HOST', `host ${JSON.stringify(host)} is not configured in ${ctx.loaded.file}; configured hosts: ${list}`);
  }
}

/** A bare account JID: localpart required, no resource. */
function accountJid(input: string | undefined): Jid & { local: string } {
  if (input === undefined) throw new UsageError('missing JID (user@host)');
  let jid: Jid;
  try {
    jid = parseJid(input);
  } catch (err) {
    if (err instanceof JidError) throw new CommandError(err.code, err.message);
    throw err;
  }
  if (jid.local === null) throw new CommandError('VIGIL_ERR_BAD_JID', `${JSON.stringify(input)} has no user part (expected user@host)`);
  if (jid.resource !== null) throw new CommandError('VIGIL_ERR_BAD_JID', `${JSON.stringify(input)} has a resource; give the bare JID user@host`);
  return { ...jid, local: jid.local };
}

function stripNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

async function readAll(input: AsyncIterable<string | Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function readPassword(values: { password?: string | undefined; 'password-file'?: string | undefined }, ctx: CliContext): Promise<string> {
  const { password, 'password-file': file } = values;
  if (password !== undefined && file !== undefined) throw new UsageError('give either --password or --password-file, not both');
  let text: string;
  if (file !== undefined) {
    try {
      text = stripNewline(await readFile(file, 'utf8'));
    } catch (err) {
      throw new CommandError(null, `cannot read the password file ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  } else if (password === '-') {
    text = stripNewline(await readAll(ctx.stdin ?? process.stdin));
  } else if (password !== undefined) {
    text = password;
  } else {
    throw new UsageError('a password is required: --password PW, --password - (stdin) or --password-file FILE');
  }
  const problem = passwordProblem(text);
  if (problem) throw new CommandError(null, `refusing the password: ${problem}`);
  return text;
}

async function withStore<T>(ctx: CliContext, fn: (store: Store) => T): Promise<T> {
  let store: Store;
  try {
    store = openSqliteStore(ctx.loaded.dataDir);
  } catch (err) {
    throw new CommandError(null, `cannot open the store in ${ctx.loaded.dataDir}: ${(err as Error).message}`);
  }
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

const PASSWORD_OPTIONS = { password: { type: 'string' }, 'password-file': { type: 'string' } } as const;

/** add and passwd: same arguments, differ in whether the account must be new or must exist. */
async function setPassword(verb: 'add' | 'passwd', argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse(argv, PASSWORD_OPTIONS, 1);
  if (values.help) return help(ctx, verb);
  const jid = accountJid(positionals[0]);
  requireConfiguredHost(ctx, jid.domain);
  const password = await readPassword(values, ctx);
  const name = formatJid(jid);
  return withStore(ctx, (store) => {
    const existing = store.users.get(jid.domain, jid.local);
    if (verb === 'add' && existing) throw new CommandError('VIGIL_ERR_USER_EXISTS', `${name} already exists (use "vigil user passwd")`);
    if (verb === 'passwd' && !existing) throw new CommandError('VIGIL_ERR_USER_NOT_FOUND', `${name} does not exist`);
    const record = makeUserRecord(jid.domain, jid.local, password, systemClock);
    store.users.put(existing ? { ...record, createdAt: existing.createdAt } : record);
    ctx.out(`${verb === 'add' ? 'added' : 'password changed for'} ${name}`);
    return 0;
  });
}

async function del(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse(argv, {}, 1);
  if (values.help) return help(ctx, 'del');
  // No configured-host check: deleting the accounts of a host removed from the config is cleanup.
  const jid = accountJid(positionals[0]);
  const name = formatJid(jid);
  if (await delThroughServer(ctx, jid, name)) return 0;
  return withStore(ctx, (store) => {
    if (!store.users.delete(jid.domain, jid.local)) throw new CommandError('VIGIL_ERR_USER_NOT_FOUND', `${name} does not exist`);
    store.rosters.clear(jid.domain, jid.local);
    ctx.out(`deleted ${name}`);
    return 0;
  });
}

/**
 * A server running on this data_dir deletes the account itself, so that it can end the account's
 * sessions (server-link.ts). False: no server (or it does not know the host): delete in the store.
 */
async function delThroughServer(ctx: CliContext, jid: Jid & { local: string }, name: string): Promise<boolean> {
  const server = runningServer(ctx.loaded.dataDir);
  if (!server) return false;
  const token = existingApiToken(ctx.loaded.config, ctx.loaded.dataDir);
  if (!token) throw new CommandError(null, `a server runs on ${ctx.loaded.dataDir} (pid ${server.pid}) but its API token is not in the config nor in data_dir`);
  const path = `/v1/hosts/${encodeURIComponent(jid.domain)}/users/${encodeURIComponent(jid.local)}`;
  const r = await callServer(server, token, 'DELETE', path);
  if (r.kind === 'unreachable') {
    ctx.err(`vigil user del: server.json names pid ${server.pid} but ${r.why}; deleting in the store only`);
    return false;
  }
  if (r.status === 204) {
    ctx.out(`deleted ${name} (by the running server, pid ${server.pid}: its sessions were ended)`);
    return true;
  }
  if (r.code === 'VIGIL_ERR_USER_NOT_FOUND') throw new CommandError('VIGIL_ERR_USER_NOT_FOUND', `${name} does not exist`);
  if (r.code === 'VIGIL_ERR_UNKNOWN_HOST') return false; // a host the server does not serve has no sessions
  throw new CommandError(null, `the running server (pid ${server.pid}) refused: HTTP ${r.status} ${r.code ?? ''}; ${name} was not deleted`);
}

async function list(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse(argv, {}, 1);
  if (values.help) return help(ctx, 'list');
  let host: string | undefined;
  if (positionals[0] !== undefined) {
    try {
      host = normaliseDomain(positionals[0]);
    } catch (err) {
      if (err instanceof JidError) throw new CommandError(err.code, err.message);
      throw err;
    }
    requireConfiguredHost(ctx, host);
  }
  return withStore(ctx, (store) => {
    for (const u of store.users.list(host)) ctx.out(`${u.user}@${u.host}`);
    return 0;
  });
}

function help(ctx: CliContext, topic: keyof typeof USAGE): number {
  ctx.out(USAGE[topic]);
  return 0;
}

const VERBS: Record<string, { verb: Verb; run: (argv: string[], ctx: CliContext) => Promise<number> }> = {
  add: { verb: 'add', run: (argv, ctx) => setPassword('add', argv, ctx) },
  passwd: { verb: 'passwd', run: (argv, ctx) => setPassword('passwd', argv, ctx) },
  del: { verb: 'del', run: del },
  delete: { verb: 'del', run: del },
  list: { verb: 'list', run: list },
  import: { verb: 'import', run: userImport },
};

export const userCommand: CliCommand = async (argv, ctx) => {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') return help(ctx, 'user');
  const entry = first === undefined ? undefined : VERBS[first];
  if (!entry) {
    ctx.err(first === undefined ? 'vigil user: missing command' : `vigil user: unknown command ${JSON.stringify(first)}`);
    ctx.err(USAGE.user);
    return 2;
  }
  try {
    return await entry.run(rest, ctx);
  } catch (err) {
    if (err instanceof UsageError) {
      ctx.err(`vigil user ${entry.verb}: ${err.message}`);
      ctx.err(USAGE[entry.verb]);
      return 2;
    }
    if (err instanceof CommandError || err instanceof VigilError) {
      ctx.err(`vigil user ${entry.verb}: ${err instanceof VigilError ? `${err.code}: ` : ''}${err.message}`);
      return 1;
    }
    ctx.err(`vigil user ${entry.verb}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
};
