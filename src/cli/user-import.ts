/**
 * `vigil user import FILE [--jobs N]`: create many accounts from a file (`-` = standard input), one a
 * line: CSV `jid,password` or JSON lines, which may carry pre-hashed SCRAM credentials instead of a
 * password (format: src/auth/import-lines.ts). Each JID's host must be configured.
 *
 * Prints one line per account line, in file order: `LINE created|existing|invalid JID [CODE: why]`,
 * then `created N, existing N, invalid N`. Idempotent: existing accounts are left as they are, so a
 * file can be imported again after a partial run. The file is read as a stream (any size); accounts
 * are written to the store in small transactions, beside a running server (WAL).
 *
 * Exit codes: 0 every line created or existing, 1 some line invalid (or the import failed), 2 usage.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { type ParsedLine, parseImportLine } from '../auth/import-lines.js';
import { type ImportResult, defaultImportJobs, importUsers, resolveAccount } from '../auth/import-users.js';
import { openSqliteStore } from '../store/sqlite.js';
import { systemClock } from '../time/clock.js';
import type { CliContext } from './context.js';

export const IMPORT_USAGE = `Usage: vigil user import FILE [--jobs N]

Create the accounts listed in FILE ("-" reads standard input), one a line:
  alice@example.org,secret                                   CSV jid,password (RFC 4180 quoting)
  {"jid": "bob@example.org", "password": "secret"}           JSON
  {"jid": "carol@example.org", "scram_sha_1": {"salt": "<base64>", "iterations": 4096,
   "stored_key": "<base64>", "server_key": "<base64>"}}       JSON, pre-hashed (scram_sha_256 too)
Blank lines, # comments and a "jid,password" header are skipped. Existing accounts are left unchanged
(reported "existing"): running the same file again is safe.
  --jobs N   accounts hashed at once on the thread pool (default ${defaultImportJobs()}: CPUs - 1)
Prints "LINE STATUS JID [CODE: why]" per account line and a summary. Exit 1 when a line is invalid.`;

async function* fileLines(path: string, ctx: CliContext): AsyncGenerator<ParsedLine> {
  const input = path === '-' ? (ctx.stdin ?? process.stdin) : createReadStream(path, { encoding: 'utf8' });
  let n = 0;
  for await (const text of createInterface({ input: input as NodeJS.ReadableStream, crlfDelay: Infinity })) {
    const p = parseImportLine(text, ++n);
    if (p) yield p;
  }
}

function formatResult(r: ImportResult): string {
  const base = `${r.line} ${r.status} ${r.jid ?? '-'}`;
  return r.status === 'invalid' ? `${base} ${r.code}: ${r.reason}` : base;
}

export async function userImport(argv: string[], ctx: CliContext): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { jobs: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    return usage(ctx, (err as Error).message.split('\n')[0]!);
  }
  if (parsed.values.help) {
    ctx.out(IMPORT_USAGE);
    return 0;
  }
  const [file, extra] = parsed.positionals;
  if (file === undefined) return usage(ctx, 'missing FILE (or - for standard input)');
  if (extra !== undefined) return usage(ctx, `unexpected argument ${JSON.stringify(extra)}`);
  const jobs = parsed.values.jobs === undefined ? undefined : Number(parsed.values.jobs);
  if (jobs !== undefined && !(Number.isInteger(jobs) && jobs >= 1 && jobs <= 256)) return usage(ctx, '--jobs must be an integer from 1 to 256');

  const hosts = new Set(Object.keys(ctx.loaded.config.hosts));
  const listed = [...hosts].sort().join(', ') || '(none)';
  const hostProblem = (h: string) => (hosts.has(h) ? null : `host ${h} is not configured in ${ctx.loaded.file}; configured hosts: ${listed}`);
  const store = openSqliteStore(ctx.loaded.dataDir);
  try {
    const summary = await importUsers(
      fileLines(file, ctx),
      { users: store.users, clock: systemClock },
      { resolve: (jid) => resolveAccount(jid, hostProblem), onResult: (r) => ctx.out(formatResult(r)), ...(jobs === undefined ? {} : { jobs }) },
    );
    ctx.out(`created ${summary.created}, existing ${summary.existing}, invalid ${summary.invalid}`);
    return summary.invalid > 0 ? 1 : 0;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    ctx.err(`vigil user import: ${code === 'ENOENT' || code === 'EACCES' ? `cannot read ${file} (${code})` : (err as Error).message}`);
    return 1;
  } finally {
    store.close();
  }
}

function usage(ctx: CliContext, problem: string): number {
  ctx.err(`vigil user import: ${problem}`);
  ctx.err(IMPORT_USAGE);
  return 2;
}
