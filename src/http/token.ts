/**
 * The REST API bearer token. Precedence: `api.token` in the config (VIGIL_API_TOKEN is mapped onto
 * it by the loader), else the token kept in `data_dir/api-token`, else a new random token written
 * there with mode 0600 at first start and logged once (only when generated).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/types.js';

export const TOKEN_FILE = 'api-token';

export function resolveApiToken(config: { api: Pick<Config['api'], 'token'> }, dataDir: string, logger: { info(obj: object, msg: string): void }): string {
  const configured = config.api.token;
  if (configured) return configured;
  const file = join(dataDir, TOKEN_FILE);
  const kept = readToken(file);
  if (kept) return kept;
  const token = randomBytes(32).toString('base64url');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // 'wx': never overwrite a token another process wrote meanwhile.
  try {
    writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      const other = readToken(file);
      if (other) return other;
    }
    throw err;
  }
  // In the message, not a field: the app's logger redacts fields named `token`.
  logger.info({ event: 'api_token_generated', file }, `generated REST API token (kept in ${file}): ${token}`);
  return token;
}

/** The token a running server uses, without generating one (the CLI talking to that server). */
export function existingApiToken(config: { api: Pick<Config['api'], 'token'> }, dataDir: string): string | null {
  return config.api.token || readToken(join(dataDir, TOKEN_FILE));
}

function readToken(file: string): string | null {
  try {
    const t = readFileSync(file, 'utf8').trim();
    return t.length > 0 ? t : null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
