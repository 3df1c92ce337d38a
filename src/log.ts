/** The one pino logger, shared by the app and fastify. Secrets are redacted by path. */
import { pino, type Logger, type DestinationStream } from 'pino';
import { type LogFormat, prettyDestination, wantsPretty } from './log-format.js';

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const opts = {
    level,
    base: { app: 'vigil' },
    redact: {
      paths: ['password', '*.password', 'token', '*.token', 'req.headers.authorization', 'headers.authorization'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(opts, destination) : pino(opts);
}

/**
 * The logger `log:` configures: JSON lines, or with `format` pretty (or auto on a terminal) the
 * human format of log-format.ts. `out` defaults to standard output.
 */
export function createConfiguredLogger(
  log: { level: string; format: LogFormat },
  out: { write(text: string): unknown; isTTY?: boolean } = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): Logger {
  if (wantsPretty(log.format, out)) return createLogger(log.level, prettyDestination(out, { color: out.isTTY === true && !env['NO_COLOR'] }));
  return out === process.stdout ? createLogger(log.level) : createLogger(log.level, { write: (line: string) => void out.write(line) });
}
