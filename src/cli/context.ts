/** What a CLI command gets: the loaded config and where to write. Commands return an exit code. */
import type { LoadedConfig } from '../config/load.js';
import type { ErrorCode } from '../errors.js';

export interface CliContext {
  loaded: LoadedConfig;
  out(line: string): void;
  err(line: string): void;
  /** Standard input (e.g. `vigil user add JID --password -`); process.stdin when absent. */
  stdin?: AsyncIterable<string | Buffer>;
}

export type CliCommand = (argv: string[], ctx: CliContext) => Promise<number>;

/**
 * A command that cannot be done (exit 1). Its message starts with the catalog code when there is
 * one (src/errors.ts, docs/errors.md), so scripts match on the code, never on the text.
 */
export class CommandError extends Error {
  constructor(
    readonly code: ErrorCode | null,
    detail: string,
  ) {
    super(code === null ? detail : `${code}: ${detail}`);
    this.name = 'CommandError';
  }
}
