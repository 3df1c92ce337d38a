/**
 * Everything of the XMPP service except the listening socket: the router, the stanza world,
 * TLS contexts, counters, per-IP admission and the set of live connections. `accept(duplex)`
 * starts a connection on any Duplex, which is how unit tests drive whole streams in memory.
 *
 * Every limit is a host's option (src/config/schema/xmpp.ts); before a stream header names the
 * host, the schema's defaults and the rules in the options' docs apply. Nothing is built here that
 * the composition root provides (the password cache is shared with MQTT).
 *
 * XEP-0198: the SM-IDs of resumable sessions (stream-mgmt/registry.ts); a detached session keeps
 * counting against its host's and address's connection limits until it is resumed or ends. The
 * stream management and CSI options are runtime host settings: a change re-applies the probe
 * timing of the sessions that use them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { SecureContext } from 'node:tls';
import type { PasswordChecker } from '../auth/password-cache.js';
import { type HostSettings, type HostSettingsTable, fileHostSettings, hostSettingsSchema } from '../host-settings.js';
import { defaults } from '../config/dsl.js';
import { xmppSchema } from '../config/schema/xmpp.js';
import type { CoreDeps } from '../deps.js';
import { BoundSession, type SessionEnv } from './bound-session.js';
import { type Connection, type ConnectionDeps, startConnection } from './connection.js';
import { createIpLimits } from '../ip-limits.js';
import { xmppCounters } from './metrics.js';
import type { XmppHostOptions } from './options.js';
import { createClusterRouter } from './remote-router.js';
import { pushRoster } from './roster.js';
import { type Router, createRouter } from './router.js';
import { SmRegistry } from './stream-mgmt/registry.js';
import type { XmppWorld } from './world.js';

/**
 * What the XMPP adapter needs: the core parts and, required, the one password cache; the host
 * settings table when there is one (the app's, changeable at runtime), else the file's values.
 */
export type XmppDeps = CoreDeps & { passwords: PasswordChecker; hostSettings?: Pick<HostSettingsTable, 'get' | 'subscribe'> };

/**
 * After our </stream:stream>, how long the peer has to close its side before the socket is
 * destroyed (RFC 6120 §4.4). Not an option: tests shorten it through EngineOptions.
 */
const CLOSE_GRACE_MS = 2_000;

/** The options of a host the file does not name (and of none, before a header names one). */
const DEFAULT_OPTIONS: XmppHostOptions = defaults(xmppSchema);

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

export function createXmppEngine(deps: XmppDeps, opts: EngineOptions = {}): XmppEngine {
  const { config, logger, passwords } = deps;
  const hostNames = Object.keys(config.hosts);
  /** A configured host's options; undefined for any other name (host-unknown). */
  const hostOptions = (domain: string): XmppHostOptions | undefined => config.hosts[domain]?.xmpp;
  const optionsOf = (host: string | null): XmppHostOptions => (host === null ? undefined : hostOptions(host)) ?? DEFAULT_OPTIONS;
  const counters = xmppCounters(deps.metrics);
  // Cluster mode: resources on other nodes are reachable too (remote-router.ts).
  const router = deps.cluster ? createClusterRouter(createRouter(), deps.cluster) : createRouter();
  // Cluster mode: a roster item another node changed is pushed to this node's interested resources.
  deps.cluster?.onRemoteRoster((host, user, jid, item) => pushRoster(world, host, user, item ?? { jid, removed: true }));
  const contexts = new Map<string, SecureContext>();
  const live = new Set<Connection>();
  const perIp = new Map<string, number>();
  const random = opts.random ?? (() => randomBytes(12).toString('hex'));
  let seq = 0;
  const fileSettings = fileHostSettings(config);
  const defaultSettings: HostSettings = defaults(hostSettingsSchema);
  const settings = (host: string): HostSettings => deps.hostSettings?.get(host) ?? fileSettings[host] ?? defaultSettings;
  // Before the header: the shortest of every host's handshake_timeout, never above the default.
  const minHandshake = Math.min(DEFAULT_OPTIONS.handshake_timeout, ...hostNames.map((h) => optionsOf(h).handshake_timeout));

  const world: XmppWorld = {
    router,
    rosters: deps.store.rosters,
    users: deps.store.users,
    isLocalDomain: (d) => config.hosts[d] !== undefined,
    setAvailability: (ref, a) => deps.presence.setAvailability(ref, a),
    setMeta: (ref, meta, announce) => deps.presence.setMeta(ref, meta, announce),
    newId: () => `push-${(++seq).toString(36)}`,
    smOffered: (host) => settings(host).stream_management,
    maxRosterSize: (host) => optionsOf(host).max_roster_size,
    countLimit: (limit) => counters.limitHits.inc({ limit }),
  };

  /**
   * max_connections_per_ip: every accepted socket counts for its address at once (so sockets that
   * never send a header are bounded too); over the largest per host limit the socket is refused
   * before any byte. The header's host then applies its own limit to the streams of that address it
   * already admitted (policy-violation).
   */
  const limits = hostNames.map((h) => optionsOf(h).max_connections_per_ip);
  const acceptLimit = limits.includes(0) ? 0 : Math.max(0, ...limits);

  /** Connections per host and address that passed the header (host + NUL + ip). */
  const admitted = new Map<string, number>();
  /** Connections per host that passed the header. */
  const perHost = new Map<string, number>();
  const totals = hostNames.map((h) => optionsOf(h).max_connections);
  const acceptTotal = totals.includes(0) ? 0 : totals.reduce((a, b) => a + b, 0);
  const ipLimits = createIpLimits({
    clock: deps.clock,
    rates: Object.fromEntries(hostNames.map((h) => [h, optionsOf(h).max_connection_rate_per_ip])),
    authDelays: Object.fromEntries(hostNames.map((h) => [h, optionsOf(h).auth_failure_delay_ms])),
  });
  /** Until the header names the host, the first host's max_send_buffer applies (its doc says so). */
  const firstHost = hostNames[0] ?? null;
  const decrement = (m: Map<string, number>, k: string) => {
    const n = (m.get(k) ?? 1) - 1;
    if (n <= 0) m.delete(k);
    else m.set(k, n);
  };

  function limitHit(ip: string, host: string | null, limit: number, name = 'max_connections_per_ip'): void {
    counters.limitHits.inc({ limit: name });
    logger.info({ event: `xmpp_limit_${name}`, ip, host, limit }, `xmpp_limit_${name}`);
  }

  /** Sessions waiting for a resume (XEP-0198), counted against max_connections with the live connections. */
  let detached = 0;
  const session: SessionEnv = {
    world,
    liveness: deps.liveness,
    clock: deps.clock,
    logger,
    counters,
    settings,
    resumable: new SmRegistry<BoundSession>(),
    holdSlot(host, ip) {
      detached++;
      perIp.set(ip, (perIp.get(ip) ?? 0) + 1);
      const key = `${host}\u0000${ip}`;
      admitted.set(key, (admitted.get(key) ?? 0) + 1);
      perHost.set(host, (perHost.get(host) ?? 0) + 1);
    },
    releaseSlot(host, ip) {
      detached--;
      decrement(perIp, ip);
      decrement(admitted, `${host}\u0000${ip}`);
      decrement(perHost, host);
    },
  };
  // A runtime change of a host's settings: sessions probed on their own terms follow it (ack_timeout, csi_inactive_ping_interval).
  deps.hostSettings?.subscribe((host) => {
    for (const s of router.all()) {
      if (s instanceof BoundSession && s.host === host && (s.sm !== null || s.csi !== null) && !s.detached) s.handle?.setOptions(s.livenessOptions());
    }
  });

  /** What every connection shares: made once, not per connection (per-session memory). */
  const shared = {
    world,
    liveness: deps.liveness,
    scheduler: deps.scheduler,
    logger,
    counters,
    negotiation: {
      hostOptions,
      lookupUser: (host: string, user: string) => deps.store.users.get(host, user),
      nonce: () => (opts.random ? random() : randomBytes(18).toString('base64')),
      newStreamId: () => (opts.random ? random() : randomUUID()),
      defaultHost: hostNames[0] ?? 'localhost',
      smOffered: (host: string) => settings(host).stream_management,
    },
    secureContextFor: (host: string) => contexts.get(host) ?? null,
    maxStanzaBytes: (host: string | null) => optionsOf(host).max_stanza_size,
    handshakeTimeoutMs: (host: string | null) => (host === null ? minHandshake : optionsOf(host).handshake_timeout) * 1000,
    maxSendBuffer: (host: string | null) => optionsOf(host ?? firstHost).max_send_buffer,
    newResource: () => `vigil-${random()}`,
    newPingId: () => `ping-${(++seq).toString(36)}`,
    // §5: the server makes the SM-ID; random, so one from before a restart is unknown, never someone else's.
    newSmId: () => (opts.random ? `sm-${random()}` : randomBytes(18).toString('base64url')),
    session,
    checkPassword: (host: string, user: string, password: string) => passwords.checkAsync(host, user, password),
    closeGraceMs: opts.closeGraceMs ?? CLOSE_GRACE_MS,
  };

  function accept(socket: Duplex, ip: string): Connection | null {
    const count = (perIp.get(ip) ?? 0) + 1;
    let refused: [string, number] | null = null;
    if (acceptLimit > 0 && count > acceptLimit) refused = ['max_connections_per_ip', acceptLimit];
    else if (acceptTotal > 0 && live.size + detached >= acceptTotal) refused = ['max_connections', acceptTotal];
    else if (!ipLimits.takeConnection(ip, null)) refused = ['max_connection_rate_per_ip', ipLimits.acceptRate];
    if (refused) {
      limitHit(ip, null, refused[1], refused[0]);
      socket.destroy();
      return null;
    }
    perIp.set(ip, count);
    let admittedKey: string | null = null;
    let admittedHost: string | null = null;
    counters.connectionsTotal.inc();
    counters.connections.inc();
    // The shared part as prototype: a spread copy would cost each connection its own hidden class.
    const own: Pick<ConnectionDeps, 'admit' | 'authFailureDelayMs' | 'remoteAddress' | 'onEnd'> = {
      admit: (host) => {
        const o = optionsOf(host);
        const limit = o.max_connections_per_ip;
        const key = `${host}\u0000${ip}`;
        const n = admitted.get(key) ?? 0;
        if (limit > 0 && n >= limit) {
          limitHit(ip, host, limit);
          return false;
        }
        const total = o.max_connections;
        if (total > 0 && (perHost.get(host) ?? 0) >= total) {
          limitHit(ip, host, total, 'max_connections');
          return false;
        }
        if (!ipLimits.takeConnection(ip, host)) {
          limitHit(ip, host, o.max_connection_rate_per_ip, 'max_connection_rate_per_ip');
          return false;
        }
        admitted.set(key, n + 1);
        perHost.set(host, (perHost.get(host) ?? 0) + 1);
        admittedKey = key;
        admittedHost = host;
        return true;
      },
      authFailureDelayMs: (host) => ipLimits.authFailure(ip, host),
      remoteAddress: ip,
      onEnd: (c) => {
        live.delete(c);
        counters.connections.dec();
        decrement(perIp, ip);
        if (admittedKey !== null) decrement(admitted, admittedKey);
        if (admittedHost !== null) decrement(perHost, admittedHost);
      },
    };
    const conn = startConnection(socket, Object.assign(Object.create(shared) as typeof shared, own));
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
      // Sessions waiting for a resume end too: a resume after the restart is refused (item-not-found).
      for (const s of [...router.all()]) if (s instanceof BoundSession && s.detached) s.end('shutdown');
    },
  };
}
