/**
 * Everything of the XMPP service except the listening sockets: the router, the stanza world,
 * TLS contexts, counters and the connection gate (src/transport/gate.ts: limits, handshake
 * timeout, the set of live connections). `accept(duplex)` starts a connection on any
 * TransportConn, which is how unit tests drive whole streams in memory.
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
import type { SecureContext } from 'node:tls';
import type { PasswordChecker } from '../auth/password-cache.js';
import { type HostSettings, type HostSettingsTable, fileHostSettings, hostSettingsSchema } from '../host-settings.js';
import { defaults } from '../config/dsl.js';
import { xmppSchema } from '../config/schema/xmpp.js';
import type { CoreDeps } from '../deps.js';
import { BoundSession, type SessionEnv } from './bound-session.js';
import { type Connection, type ConnectionDeps, startConnection } from './connection.js';
import { ConnectionGate } from '../transport/gate.js';
import type { TransportConn } from '../transport/connection.js';
import { ListenerRate } from '../transport/listener-rate.js';
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
  /** The connection limits of every XMPP listener (src/transport/gate.ts). */
  readonly gate: ConnectionGate<Connection>;
  /** A socket arrived on listeners.xmpp (tests: an in-memory pair): the limits, then serve; null = refused (destroyed). */
  accept(socket: TransportConn, remoteAddress: string): Connection | null;
  /** Serve a connection a listener already admitted (tls, ws, wss). */
  serve(socket: TransportConn, remoteAddress: string): void;
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

  /** Until the header names the host, the first host's max_send_buffer applies (its doc says so). */
  const firstHost = hostNames[0] ?? null;

  /**
   * Every connection limit (accept: total, per address, rates; header: the host's own; the
   * handshake timeout) is the transport gate's, shared by every XMPP listener.
   */
  const gate = new ConnectionGate<Connection>({
    protocol: 'xmpp',
    hosts: Object.fromEntries(hostNames.map((h) => [h, optionsOf(h)])),
    handshakeTimeoutMs: minHandshake * 1000,
    handshakeLimit: 'handshake_timeout',
    clock: deps.clock,
    scheduler: deps.scheduler,
    logger,
    metrics: deps.metrics,
    limitHits: counters.limitHits,
  });
  const tcpRate = new ListenerRate('xmpp', config.listeners.xmpp.max_conn_rate, deps.clock);

  /** Sessions waiting for a resume (XEP-0198) hold their slot in the gate (totals, address, host). */
  const session: SessionEnv = {
    world,
    liveness: deps.liveness,
    clock: deps.clock,
    logger,
    counters,
    settings,
    resumable: new SmRegistry<BoundSession>(),
    holdSlot: (host, ip) => gate.hold(host, ip),
    releaseSlot: (host, ip) => gate.release(host, ip),
  };
  // A runtime change of a host's settings: sessions probed on their own terms follow it (ack_timeout, csi_inactive_ping_interval).
  deps.hostSettings?.subscribe((host) => {
    for (const s of router.all()) {
      if (s instanceof BoundSession && s.host === host && (s.sm !== null || s.csi !== null) && !s.detached) s.handle?.setOptions(s.livenessOptions());
    }
  });

  /** What every connection shares: made once, not per connection (per-session memory). */
  const shared: ConnectionDeps = {
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
    maxSendBuffer: (host: string | null) => optionsOf(host ?? firstHost).max_send_buffer,
    authFailureDelayMs: (conn, host) => gate.authFailureDelayMs(conn.remoteIp, host),
    admit: (conn, host) => gate.admitHost(conn, host),
    established: (conn) => gate.established(conn),
    probeOf: (host) => deps.liveness.hostConfig(host)?.xmpp_probe ?? 'iq',
    newResource: () => `vigil-${random()}`,
    newPingId: () => `ping-${(++seq).toString(36)}`,
    // §5: the server makes the SM-ID; random, so one from before a restart is unknown, never someone else's.
    newSmId: () => (opts.random ? `sm-${random()}` : randomBytes(18).toString('base64url')),
    session,
    checkPassword: (host: string, user: string, password: string) => passwords.checkAsync(host, user, password),
    closeGraceMs: opts.closeGraceMs ?? CLOSE_GRACE_MS,
    onEnd: (c) => gate.closed(c),
  };

  /** Serve a connection the gate admitted. */
  function serve(socket: TransportConn, ip: string): Connection {
    counters.connectionsTotal.inc();
    const conn = startConnection(socket, shared, ip, deps.clock.monotonic());
    gate.opened(conn);
    return conn;
  }

  function accept(socket: TransportConn, ip: string): Connection | null {
    if (!gate.attempt(ip, tcpRate) || !gate.admit(ip)) {
      socket.destroy();
      return null;
    }
    return serve(socket, ip);
  }

  return {
    router,
    world,
    contexts,
    gate,
    accept,
    serve: (socket, ip) => void serve(socket, ip),
    connections: () => gate.connections(),
    shutdown() {
      gate.shutdown();
      for (const c of gate.connections()) c.kill('shutdown');
      // Sessions waiting for a resume end too: a resume after the restart is refused (item-not-found).
      for (const s of [...router.all()]) if (s instanceof BoundSession && s.detached) s.end('shutdown');
    },
  };
}
