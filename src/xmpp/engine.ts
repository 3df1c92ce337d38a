/**
 * Everything of the XMPP service except the listening socket: the router, the stanza world,
 * TLS contexts, counters, per-IP admission and the set of live connections. `accept(duplex)`
 * starts a connection on any Duplex, which is how unit tests drive whole streams in memory.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { SecureContext } from 'node:tls';
import type { CoreDeps } from '../deps.js';
import { type Connection, startConnection } from './connection.js';
import { xmppCounters } from './metrics.js';
import type { XmppHostOptions } from './options.js';
import { type Router, createRouter } from './router.js';
import type { XmppWorld } from './world.js';

const DEFAULT_MAX_STANZA = 65_536;

export interface XmppEngine {
  readonly router: Router;
  readonly world: XmppWorld;
  /** STARTTLS context per host (set by the service after loading certificates). */
  readonly contexts: Map<string, SecureContext>;
  accept(socket: Duplex, remoteAddress: string): Connection;
  connections(): Connection[];
  /** Close every stream with system-shutdown. */
  shutdown(): void;
}

export interface EngineOptions {
  /** Deterministic ids and nonces for tests. */
  random?: () => string;
  closeGraceMs?: number;
}

export function createXmppEngine(deps: CoreDeps, opts: EngineOptions = {}): XmppEngine {
  const { config, logger } = deps;
  const hostNames = Object.keys(config.hosts);
  const hostOptions = (domain: string): XmppHostOptions | undefined => config.hosts[domain]?.xmpp;
  const counters = xmppCounters(deps.metrics);
  const router = createRouter();
  const contexts = new Map<string, SecureContext>();
  const live = new Set<Connection>();
  const perIp = new Map<string, number>();
  const random = opts.random ?? (() => randomBytes(12).toString('hex'));
  let seq = 0;
  const minHandshake = Math.min(30, ...hostNames.map((h) => hostOptions(h)?.handshake_timeout ?? 30));

  const world: XmppWorld = {
    router,
    rosters: deps.store.rosters,
    users: deps.store.users,
    isLocalDomain: (d) => config.hosts[d] !== undefined,
    setAvailability: (ref, a) => deps.presence.setAvailability(ref, a),
    setMeta: (ref, meta) => deps.presence.setMeta(ref, meta),
    newId: () => `push-${(++seq).toString(36)}`,
  };

  function accept(socket: Duplex, ip: string): Connection {
    let counted = false;
    counters.connectionsTotal.inc();
    counters.connections.inc();
    const conn = startConnection(socket, {
      world,
      liveness: deps.liveness,
      scheduler: deps.scheduler,
      logger,
      counters,
      negotiation: {
        hostOptions,
        lookupUser: (host, user) => deps.store.users.get(host, user),
        nonce: () => (opts.random ? random() : randomBytes(18).toString('base64')),
        newStreamId: () => (opts.random ? random() : randomUUID()),
        defaultHost: hostNames[0] ?? 'localhost',
      },
      secureContextFor: (host) => contexts.get(host) ?? null,
      maxStanzaBytes: (host) => (host ? hostOptions(host)?.max_stanza_size : undefined) ?? DEFAULT_MAX_STANZA,
      handshakeTimeoutMs: (host) => ((host ? hostOptions(host)?.handshake_timeout : undefined) ?? minHandshake) * 1000,
      admit: (host) => {
        const limit = hostOptions(host)?.max_connections_per_ip ?? 0;
        const n = perIp.get(ip) ?? 0;
        if (limit > 0 && n >= limit) {
          counters.limitHits.inc({ limit: 'max_connections_per_ip' });
          logger.info({ event: 'xmpp_limit_connections_per_ip', ip, host, limit }, 'xmpp_limit_connections_per_ip');
          return false;
        }
        perIp.set(ip, n + 1);
        counted = true;
        return true;
      },
      newResource: () => `vigil-${random()}`,
      newPingId: () => `ping-${(++seq).toString(36)}`,
      remoteAddress: ip,
      ...(opts.closeGraceMs !== undefined ? { closeGraceMs: opts.closeGraceMs } : {}),
      onEnd: (c) => {
        live.delete(c);
        counters.connections.dec();
        if (counted) {
          const n = (perIp.get(ip) ?? 1) - 1;
          if (n <= 0) perIp.delete(ip);
          else perIp.set(ip, n);
        }
      },
    });
    live.add(conn);
    return conn;
  }

  return {
    router,
    world,
    contexts,
    accept,
    connections: () => [...live],
    shutdown() {
      for (const c of [...live]) c.kill('shutdown');
    },
  };
}
