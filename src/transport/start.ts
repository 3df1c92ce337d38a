/**
 * Start a protocol's listeners from their plans (what src/mqtt/listener.ts and src/xmpp/listener.ts
 * make of `listeners.*`): one function for both protocols, so a new transport is a plan kind.
 * Each plan gets its own max_conn_rate bucket; TLS ones (tls, wss) register their certificate
 * reload (tls-reload.ts) under their listener name.
 */
import type { Logger } from 'pino';
import type { SecureContextOptions, TlsOptions } from 'node:tls';
import type { Metrics } from '../metrics.js';
import type { Clock } from '../time/clock.js';
import type { ConnectionGate, Gated } from './gate.js';
import { ListenerRate } from './listener-rate.js';
import { type OnConnection, type RunningListener, listenTcp, listenTls } from './listeners.js';
import type { TlsReloader } from './tls-reload.js';
import type { WsFraming } from './ws-connection.js';
import { listenWs } from './ws-server.js';

export interface ListenerPlan {
  /** listeners.<name> */
  readonly name: string;
  readonly kind: 'tcp' | 'tls' | 'ws' | 'wss';
  readonly host: string;
  readonly port: number;
  readonly maxConnRate: number;
  readonly onConnection: OnConnection;
  /** tls, wss: the server options now, and the secure context options again on each reload. */
  readonly tls?: { options: TlsOptions; reload: () => SecureContextOptions };
  /** ws, wss */
  readonly ws?: { path: string; checkOrigin: readonly string[]; framing: WsFraming };
}

export interface StartDeps {
  gate: ConnectionGate<Gated>;
  handshakeTimeoutMs: number;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  reloader: TlsReloader | null;
}

export async function startListeners(plans: readonly ListenerPlan[], deps: StartDeps): Promise<RunningListener[]> {
  const running: RunningListener[] = [];
  const handshakeErrors = deps.metrics.counter('vigil_tls_handshake_errors_total', 'TLS handshakes that failed (no or a bad client certificate, a revoked one, a wrong protocol)', ['listener'] as const);
  try {
    for (const p of plans) {
      const spec = { name: p.name, host: p.host, port: p.port, gate: deps.gate, rate: new ListenerRate(p.name, p.maxConnRate, deps.clock), onConnection: p.onConnection, logger: deps.logger };
      let l: RunningListener;
      if (p.kind === 'tcp') l = await listenTcp(spec);
      else if (p.kind === 'tls') l = await listenTls({ ...spec, tls: p.tls!.options, handshakeTimeoutMs: deps.handshakeTimeoutMs, handshakeErrors });
      else l = await listenWs({ ...spec, ...p.ws!, tls: p.kind === 'wss' ? p.tls!.options : null, handshakeTimeoutMs: deps.handshakeTimeoutMs });
      running.push(l);
      const tls = p.tls;
      const swap = l.setSecureContext;
      if (tls && swap && deps.reloader) deps.reloader.add(p.name, () => swap(tls.reload()));
    }
  } catch (err) {
    await Promise.all(running.map((l) => l.close(0)));
    throw err;
  }
  return running;
}

/** Stop accepting on every listener (the protocol closes its connections first). */
export async function stopListeners(running: readonly RunningListener[], reloader: TlsReloader | null): Promise<void> {
  for (const l of running) reloader?.remove(l.name);
  await Promise.all(running.map((l) => l.close()));
}

/** Bound addresses by listener name. */
export function addressesOf(running: readonly RunningListener[]): Record<string, { host: string; port: number } | null> {
  return Object.fromEntries(running.map((l) => [l.name, l.address()]));
}
