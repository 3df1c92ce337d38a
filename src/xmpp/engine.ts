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
  /** Start a connection; null when the address is over max_connections_per_ip (socket destroyed). */
  accept(socket: Duplex, remoteAddress: string): Connection | null;
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

  /**
   * max_connections_per_ip: every accepted socket counts for its address at once (so sockets that
   * never send a header are bounded too); over the largest per host limit the socket is refused
   * before any byte. The header's host then applies its own limit to the streams of that address it
   * already admitted (policy-violation).
   */
  const limits = hostNames.map((h) => hostOptions(h)?.max_connections_per_ip ?? 0);
  const acceptLimit = limits.includes(0) ? 0 : Math.max(0, ...limits);

  /** Connections per host and address that passed the header (host + NUL + ip). */
  const admitted = new Map<string, number>();
  const decrement = (m: Map<string, number>, k: string) => {
    const n = (m.get(k) ?? 1) - 1;
    if (n <= 0) m.delete(k);
    else m.set(k, n);
  };

  function limitHit(ip: string, host: string | null, limit: number): void {
    counters.limitHits.inc({ limit: 'max_connections_per_ip' });
    logger.info({ event: 'xmpp_limit_connections_per_ip', ip, host, limit }, 'xmpp_limit_connections_per_ip');
  }

  function accept(socket: Duplex, ip: string): Connection | null {
    const count = (perIp.get(ip) ?? 0) + 1;
    if (acceptLimit > 0 && count > acceptLimit) {
      limitHit(ip, null, acceptLimit);
      socket.destroy();
      return null;
    }
    perIp.set(ip, count);
    let admittedKey: string | null = null;
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
        const key = `${host}\u0000${ip}`;
        const n = admitted.get(key) ?? 0;
        if (limit > 0 && n >= limit) {
          limitHit(ip, host, limit);
          return false;
        }
        admitted.set(key, n + 1);
        admittedKey = key;
        return true;
      },
      newResource: () => `vigil-${random()}`,
      newPingId: () => `ping-${(++seq).toString(36)}`,
      remoteAddress: ip,
      ...(opts.closeGraceMs !== undefined ? { closeGraceMs: opts.closeGraceMs } : {}),
      onEnd: (c) => {
        live.delete(c);
        counters.connections.dec();
        decrement(perIp, ip);
        if (admittedKey !== null) decrement(admitted, admittedKey);
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
