/**
 * `vigil serve [--workers N]`: run until SIGTERM/SIGINT, then stop gracefully and exit 0 (a second
 * signal forces exit); SIGHUP reloads the TLS certificates. While it runs, data_dir/server.json names
 * it to CLI commands (server-link.ts). `--workers N` (N > 1, cluster mode only): N worker processes
 * on this machine share the listeners (serve-workers.ts).
 */
import { parseArgs } from 'node:util';
import { createApp } from '../app.js';
import { createConfiguredLogger } from '../log.js';
import type { CliCommand } from './context.js';
import { isWorker, reportStarted, runPrimary, workerStopRequest } from './serve-workers.js';
import { removeServerFile, writeServerFile } from './server-link.js';

const STOP_DEADLINE_MS = 15_000;
const MAX_WORKERS = 256;

export const SERVE_HELP = `Usage: vigil serve [--config FILE] [--workers N]

Run the server until SIGTERM/SIGINT.

  --workers N   N worker processes sharing the listeners, one cluster node each (default 1;
                needs a cluster section: docs/cluster.md, "Every core of one machine")`;

export const serveCommand: CliCommand = async (argv, ctx) => {
  let workers = 1;
  try {
    const { values } = parseArgs({ args: argv, options: { workers: { type: 'string', short: 'w' } }, strict: true, allowPositionals: false });
    if (values.workers !== undefined) workers = Number(values.workers);
  } catch (err) {
    ctx.err(`vigil serve: ${(err as Error).message}\n\n${SERVE_HELP}`);
    return 2;
  }
  if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
    ctx.err(`vigil serve: --workers expects an integer from 1 to ${MAX_WORKERS}`);
    return 2;
  }
  const logger = createConfiguredLogger(ctx.loaded.config.log);
  if (workers > 1 && !isWorker()) {
    if (!ctx.loaded.config.cluster) {
      ctx.err(`vigil serve: --workers ${workers} needs a cluster section in the config (the workers share their state through Redis; docs/cluster.md)`);
      return 2;
    }
    const { dataDir } = ctx.loaded;
    const code = await runPrimary({ loaded: ctx.loaded, workers, logger, onServing: (http) => writeServerFile(dataDir, { pid: process.pid, http, startedAt: Date.now() }) });
    removeServerFile(dataDir, process.pid);
    return code;
  }
  const app = createApp({ loaded: ctx.loaded, logger });
  try {
    await app.start();
  } catch (err) {
    logger.fatal({ event: 'vigil_start_failed', err }, 'cannot start');
    await app.stop().catch(() => undefined);
    return 1;
  }
  const { dataDir } = ctx.loaded;
  const http = app.addresses()['http'] ?? null;
  writeServerFile(dataDir, { pid: process.pid, http, startedAt: Date.now() });
  if (isWorker()) reportStarted(http);
  // SIGHUP (Mosquitto's convention): re-read every TLS listener's certificate, key, CA and CRL.
  const onHup = () => {
    logger.info({ event: 'signal_received', signal: 'SIGHUP' }, 'reloading certificates');
    app.reloadTls();
  };
  process.on('SIGHUP', onHup);
  const signal = await (isWorker()
    ? workerStopRequest()
    : new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGTERM', () => resolve('SIGTERM'));
        process.once('SIGINT', () => resolve('SIGINT'));
      }));
  process.off('SIGHUP', onHup);
  logger.info({ event: 'signal_received', signal }, 'shutting down');
  const force = () => {
    logger.error({ event: 'forced_exit' }, 'forced exit');
    process.exit(1);
  };
  process.once('SIGTERM', force);
  if (!isWorker()) process.once('SIGINT', force);
  const deadline = setTimeout(force, STOP_DEADLINE_MS);
  deadline.unref();
  await app.stop();
  removeServerFile(dataDir, process.pid);
  clearTimeout(deadline);
  if (isWorker()) process.disconnect?.(); // the channel to the primary must not keep a stopped worker alive
  return 0;
};
