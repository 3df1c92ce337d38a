/**
 * `vigil serve`: run until SIGTERM/SIGINT, then stop gracefully and exit 0 (a second signal forces
 * exit); SIGHUP reloads the TLS certificates. While it runs, data_dir/server.json names it to CLI
 * commands (server-link.ts).
 */
import { createApp } from '../app.js';
import { createConfiguredLogger } from '../log.js';
import type { CliCommand } from './context.js';
import { removeServerFile, writeServerFile } from './server-link.js';

const STOP_DEADLINE_MS = 15_000;

export const serveCommand: CliCommand = async (_argv, ctx) => {
  const logger = createConfiguredLogger(ctx.loaded.config.log);
  const app = createApp({ loaded: ctx.loaded, logger });
  try {
    await app.start();
  } catch (err) {
    logger.fatal({ event: 'vigil_start_failed', err }, 'cannot start');
    await app.stop().catch(() => undefined);
    return 1;
  }
  const { dataDir } = ctx.loaded;
  writeServerFile(dataDir, { pid: process.pid, http: app.addresses()['http'] ?? null, startedAt: Date.now() });
  // SIGHUP (Mosquitto's convention): re-read every TLS listener's certificate, key, CA and CRL.
  const onHup = () => {
    logger.info({ event: 'signal_received', signal: 'SIGHUP' }, 'reloading certificates');
    app.reloadTls();
  };
  process.on('SIGHUP', onHup);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  process.off('SIGHUP', onHup);
  logger.info({ event: 'signal_received', signal }, 'shutting down');
  const force = () => {
    logger.error({ event: 'forced_exit' }, 'forced exit');
    process.exit(1);
  };
  process.once('SIGTERM', force);
  process.once('SIGINT', force);
  const deadline = setTimeout(force, STOP_DEADLINE_MS);
  deadline.unref();
  await app.stop();
  removeServerFile(dataDir, process.pid);
  clearTimeout(deadline);
  return 0;
};
