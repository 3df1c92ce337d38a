/** What a CLI command gets: the loaded config and where to write. Commands return an exit code. */
import type { LoadedConfig } from '../config/load.js';

export interface CliContext {
  loaded: LoadedConfig;
  out(line: string): void;
  err(line: string): void;
  /** Standard input (e.g. `vigil user add JID --password -`); process.stdin when absent. */
  stdin?: AsyncIterable<string | Buffer>;
}

export type CliCommand = (argv: string[], ctx: CliContext) => Promise<number>;
