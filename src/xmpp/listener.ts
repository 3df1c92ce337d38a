/**
 * The XMPP c2s listeners (a Service of the app), serving every configured host (the stream
 * header's `to` picks it; unknown -> host-unknown), through the shared transport layer:
 *
 *   listeners.xmpp    tcp (5222), STARTTLS with each host's certificate
 *   listeners.xmpps   tls (5223), XEP-0368 direct TLS: the host's certificate chosen by SNI
 *                     (the first host's without SNI), or the listener's own tls block
 *   /xmpp-websocket   ws / wss on the HTTP listener (RFC 7395; src/http/websocket.ts, wsEndpoint)
 *
 * Loads or generates the host certificates first; a SIGHUP re-reads them (STARTTLS contexts and
 * xmpps) through the TLS reloader. stop(): stop accepting, close every stream with
 * system-shutdown, wait for the sockets.
 */
import { readFileSync } from 'node:fs';
import { type SecureContextOptions, type TlsOptions, createSecureContext } from 'node:tls';
import type { Service } from '../deps.js';
import type { RunningListener } from '../transport/listeners.js';
import { addressesOf, type ListenerPlan, startListeners, stopListeners } from '../transport/start.js';
import { checkContext, loadSecureOptions, serverTlsOptions } from '../transport/tls-context.js';
import type { TlsReloader } from '../transport/tls-reload.js';
import type { WsEndpoint } from '../transport/ws-server.js';
import { type TlsFiles, ensureSelfSigned, loadConfigured } from './cert.js';
import { type EngineOptions, type XmppDeps, type XmppEngine, createXmppEngine } from './engine.js';
import { xmppWsFraming } from './ws-framing.js';

export const XMPP_WS_PATH = '/xmpp-websocket';

export interface XmppListener extends Service {
  readonly engine: XmppEngine;
  /** XMPP over WebSocket (RFC 7395) on the HTTP listener at `path`. */
  wsEndpoint(path: string): WsEndpoint;
  /** Bound addresses by listener name (xmpp, xmpps). */
  listenerAddresses(): Record<string, { host: string; port: number } | null>;
}

export function createXmppListener(deps: XmppDeps, opts: EngineOptions = {}, reloader: TlsReloader | null = null): XmppListener {
  const { config, logger } = deps;
  const hostNames = Object.keys(config.hosts);
  const engine = createXmppEngine(deps, opts);
  const framing = xmppWsFraming(Math.max(...Object.values(config.hosts).map((h) => h.xmpp.max_stanza_size)));
  /** The certificate files of each host with TLS (re-read on SIGHUP). */
  const hostFiles = new Map<string, Pick<TlsFiles, 'certPath' | 'keyPath'>>();
  let running: RunningListener[] = [];

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
      hostFiles.set(host, files);
    }
  }

  /** Re-read every host's certificate; all or nothing (a pair that does not load keeps every old one). */
  function reloadHostContexts(): void {
    const next = new Map([...hostFiles].map(([host, f]) => [host, checkContext({ cert: readFileSync(f.certPath), key: readFileSync(f.keyPath) }, { certfile: f.certPath, keyfile: f.keyPath })]));
    for (const [host, ctx] of next) engine.contexts.set(host, ctx);
  }

  /** xmpps without its own block: the first host's pair as the default, each host's by SNI. */
  function hostPairOptions(): SecureContextOptions {
    const first = hostNames.find((h) => hostFiles.has(h));
    if (first === undefined) throw new Error('listeners.xmpps: no certificate (give it a tls block, or a host with xmpp.tls not off)');
    const f = hostFiles.get(first)!;
    return { cert: readFileSync(f.certPath), key: readFileSync(f.keyPath), minVersion: 'TLSv1.2' };
  }

  function plans(): ListenerPlan[] {
    const l = config.listeners;
    const out: ListenerPlan[] = [{ name: 'xmpp', kind: 'tcp', host: l.xmpp.host, port: l.xmpp.port, maxConnRate: l.xmpp.max_conn_rate, onConnection: engine.serve }];
    const x = l.xmpps;
    if (x) {
      const block = x.tls;
      const sni: TlsOptions['SNICallback'] = (name, cb) => cb(null, engine.contexts.get(name.toLowerCase()));
      const tls = block
        ? { options: serverTlsOptions(block, loadSecureOptions(block)), reload: () => loadSecureOptions(block) }
        : { options: { ...hostPairOptions(), SNICallback: sni }, reload: hostPairOptions };
      out.push({ name: 'xmpps', kind: 'tls', host: x.host, port: x.port, maxConnRate: x.max_conn_rate, onConnection: engine.serve, tls });
    }
    return out;
  }

  return {
    name: 'xmpp',
    engine,
    wsEndpoint: (path) => ({ path, framing, gate: engine.gate, onConnection: engine.serve }),
    async start() {
      await loadTls();
      reloader?.add('xmpp_starttls', reloadHostContexts);
      running = await startListeners(plans(), { gate: engine.gate, handshakeTimeoutMs: engine.gate.handshakeTimeoutMs, clock: deps.clock, logger, metrics: deps.metrics, reloader });
      logger.info({ event: 'xmpp_listening', hosts: hostNames, ...addressesOf(running)['xmpp'] }, 'xmpp_listening');
    },
    async stop() {
      reloader?.remove('xmpp_starttls');
      engine.shutdown();
      const r = running;
      running = [];
      await stopListeners(r, reloader);
    },
    address: () => addressesOf(running)['xmpp'] ?? null,
    listenerAddresses: () => addressesOf(running),
  };
}
