/**
 * The XMPP c2s listener (a Service of the app): TCP on listeners.xmpp serving every configured host (the
 * stream header's `to` picks it; unknown -> host-unknown). Loads or generates the STARTTLS
 * certificates, then hands each socket to the engine (engine.ts).
 * stop(): stop accepting, close every stream with system-shutdown, wait for the sockets.
 */
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { Service } from '../deps.js';
import { type TlsFiles, ensureSelfSigned, loadConfigured } from './cert.js';
import { type EngineOptions, type XmppDeps, type XmppEngine, createXmppEngine } from './engine.js';

export interface XmppListener extends Service {
  readonly engine: XmppEngine;
}

export function createXmppListener(deps: XmppDeps, opts: EngineOptions = {}): XmppListener {
  const { config, logger } = deps;
  const hostNames = Object.keys(config.hosts);
  const engine = createXmppEngine(deps, opts);
  let server: Server | null = null;

  async function loadTls(): Promise<void> {
    let generated: TlsFiles | null = null;
    for (const host of hostNames) {
      const o = config.hosts[host]?.xmpp;
      if (!o || o.tls === 'off') continue;
      let files: TlsFiles;
      if ((o.certfile === null) !== (o.keyfile === null)) {
        throw new Error(`hosts.${host}.xmpp: certfile and keyfile must be set together`);
      }
      if (o.certfile && o.keyfile) files = loadConfigured(o.certfile, o.keyfile);
      else files = generated ??= await ensureSelfSigned(deps.dataDir, hostNames, logger);
      engine.contexts.set(host, createSecureContext({ cert: files.cert, key: files.key }));
    }
  }

  return {
    name: 'xmpp',
    engine,
    async start() {
      await loadTls();
      const srv = createServer((socket: Socket) => {
        socket.setNoDelay(true);
        engine.accept(socket, socket.remoteAddress ?? '?');
      });
      server = srv;
      const { host, port } = config.listeners.xmpp;
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(port, host, () => {
          srv.off('error', reject);
          resolve();
        });
      });
      const a = srv.address() as AddressInfo;
      logger.info({ event: 'xmpp_listening', host: a.address, port: a.port, hosts: hostNames }, 'xmpp_listening');
    },
    async stop() {
      const srv = server;
      if (!srv) return;
      engine.shutdown();
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 3_000);
        t.unref();
        srv.close(() => {
          clearTimeout(t);
          resolve();
        });
      });
      server = null;
    },
    address() {
      const a = server?.address();
      if (!a || typeof a === 'string') return null;
      return { host: a.address, port: a.port };
    },
  };
}
