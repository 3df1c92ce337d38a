/**
 * The broker: the composition of the per host parts a cluster replaces (seams.ts: client
 * registry, router, retained store, will scheduler), the session service (broker-sessions.ts), the
 * listeners' connection gate (src/transport/gate.ts: totals, per address, rates, CONNECT timeout),
 * and the bridge to the liveness core and the presence table.
 * Connections (connection.ts) call it as their ClientBroker (connection-deps.ts).
 *
 *   open:   claim the client id (limits, takeover) -> wills.opened -> session (CONNACK, resend)
 *           -> liveness track, presence meta -> the taken-over connection closed
 *   route:  retained.put (when retained) -> router.publish
 *   subscribed / unsubscribed: router, then the retained messages (after the SUBACK)
 *   closed: release the client id -> session close -> untrack -> wills.closed
 *
 * Takeover [MQTT-3.1.4-2/3]: the new connection is tracked first (a fresh liveness generation
 * supersedes the old handle silently, so presence shows one continuous online endpoint), then the
 * old one is closed with 'taken_over' (v5 DISCONNECT 0x8E) and its will published.
 * A claim or a will record may answer with a promise (a cluster's round trip): the connection holds
 * its input meanwhile, and a connection that closed meanwhile gives its claim back.
 * Liveness: mqtt_probe = keepalive -> onIdle 'expire' after 1.5 x Keep Alive [MQTT-3.1.2-24]
 * (0 = never); pingreq -> onIdle 'probe' (server PINGREQ, opt-in); ws_ping -> onIdle 'probe' with
 * a WebSocket Ping for clients over ws / wss, the Keep Alive rule for the others (they have no
 * WebSocket). Switched live on `host_config`.
 */
import { randomBytes } from 'node:crypto';
import type { IConnackPacket } from 'mqtt-packet';
import type { PasswordChecker } from '../auth/password-cache.js';
import type { CoreDeps } from '../deps.js';
import { normaliseLocal } from '../jid.js';
import type { DisconnectReason, TrackOptions, Via } from '../liveness/types.js';
import { ConnectionGate } from '../transport/gate.js';
import { localSessions, snakeFigures, type BrokerSessions, type SessionsFactory } from './broker-sessions.js';
import { Backpressure, thresholds } from './backpressure.js';
import type { ChannelEnv, Connected, HostPolicy } from './channel.js';
import type { SubOptions } from './channel-session.js';
import type { Claim } from './client-registry.js';
import type { BrokerClient, ClientBroker, ConnectionDeps } from './connection-deps.js';
import { PacketDecoder } from './decoder.js';
import { hostPolicy } from './host-policy.js';
import type { Delivery, Message } from './message.js';
import { createBrokerMetrics, type BrokerMetrics, type CountedEvent } from './metrics.js';
import { RC, V3, disconnectCode, willOnClose } from './reason-codes.js';
import { isSharedFilter } from './topic.js';
import { localSeams, type HostSeams, type SeamFactory } from './seams.js';

/** What the MQTT side needs from the composition root (app.ts): the core parts and the shared password checker. */
export type MqttDeps = CoreDeps & { readonly passwords: PasswordChecker };

export type BrokerDeps = Pick<MqttDeps, 'config' | 'clock' | 'scheduler' | 'store' | 'liveness' | 'presence' | 'metrics' | 'logger' | 'passwords'>;

interface HostParts extends HostSeams {
  readonly policy: HostPolicy;
}

/** Users are stored under their normalised name, like an XMPP localpart (src/jid.ts); a name that cannot be normalised stays as it is (and finds no user). */
function normaliseUser(user: string): string {
  try {
    return normaliseLocal(user);
  } catch {
    return user;
  }
}

/** The probe a host's mqtt_probe gives a client over `via` (ws_ping needs a WebSocket). */
function probeFor(mqttProbe: 'keepalive' | 'pingreq' | 'ws_ping' | undefined, via: Via): 'ws_ping' | 'pingreq' | 'keepalive' {
  if (mqttProbe === 'ws_ping') return via === 'ws' || via === 'wss' ? 'ws_ping' : 'keepalive';
  return mqttProbe === 'pingreq' ? 'pingreq' : 'keepalive';
}

/** Close a connection whose client id another one took [MQTT-3.1.4-2/3] (v5 DISCONNECT 0x8E). */
function takeOver(old: BrokerClient): void {
  old.end('taken_over', disconnectCode('taken_over'), willOnClose('taken_over'));
}

export class Broker implements ClientBroker {
  /** What every connection of the listener gets (connection-deps.ts). */
  readonly connectionDeps: ConnectionDeps;
  /** Sessions (clean and persistent), their windows, queues and durable state. */
  readonly sessions: BrokerSessions;
  readonly passwords: PasswordChecker;
  private readonly hosts = new Map<string, HostParts>();
  private readonly defaultPolicy: HostPolicy;
  /** The listeners' limits (every MQTT listener: tcp, tls, ws, wss). */
  readonly gate: ConnectionGate<BrokerClient>;
  private readonly m: BrokerMetrics;
  /** QoS 1/2 back-pressure: publishers paused while a subscriber's queue is full. */
  readonly pressure: Backpressure;
  private unsubscribeLiveness: (() => void) | null = null;

  constructor(
    private readonly deps: BrokerDeps,
    seams: SeamFactory = localSeams(deps),
    makeSessions: SessionsFactory = localSessions(deps),
  ) {
    const names = Object.keys(deps.config.hosts);
    if (names.length === 0) throw new Error('mqtt: no host configured');
    const m = (this.m = createBrokerMetrics(deps.metrics));
    const mqttOf = (h: string) => deps.config.hosts[h]!.mqtt;
    this.gate = new ConnectionGate({
      protocol: 'mqtt',
      hosts: Object.fromEntries(names.map((h) => [h, mqttOf(h)])),
      // The host is not known before CONNECT: the default (first) host's connect_timeout.
      handshakeTimeoutMs: mqttOf(names[0]!).connect_timeout * 1000,
      handshakeLimit: 'connect_timeout',
      clock: deps.clock,
      scheduler: deps.scheduler,
      logger: deps.logger,
      metrics: deps.metrics,
      limitHits: m.limits,
    });
    const marks = new Map(names.map((h) => [h, thresholds(deps.config.hosts[h]!.mqtt)]));
    this.pressure = new Backpressure({
      thresholds: (h) => marks.get(h)!,
      scheduler: deps.scheduler,
      paused: () => m.publisherPauses.inc(),
      stalled: () => m.backpressureTimeouts.inc(),
    });
    const made = makeSessions({
      onDrop: () => m.counters.dropped.value++,
      flow: this.pressure,
      removeSubscription: (host, clientId, filter) => this.hosts.get(host)?.router.unsubscribe(clientId, filter),
      redeliver: (host, clientId, ds) => this.hosts.get(host)?.router.redeliver(clientId, ds),
    });
    this.sessions = made.sessions;
    for (const host of names) {
      const policy = hostPolicy(host, deps.config.hosts[host]!.mqtt);
      const parts = seams({
        host,
        policy,
        rate: this.gate.rate,
        sessions: this.sessions,
        publish: (msg) => this.publish(this.hosts.get(host)!, msg),
        aclDenied: () => m.aclDenied.inc(),
        sharedDelivered: (group) => m.sharedDeliveries.inc({ host, group }),
      });
      this.hosts.set(host, { ...parts, policy });
    }
    made.restore((host, clientId, filter, opts) => this.hosts.get(host)?.router.subscribe(clientId, filter, opts));
    const defaultPolicy = (this.defaultPolicy = this.hosts.get(names[0]!)!.policy);
    this.passwords = deps.passwords; // built in app.ts, shared with XMPP
    const { clock, scheduler } = deps;
    this.connectionDeps = {
      wire: {
        decoder: new PacketDecoder(),
        counters: m.counters,
        defaultMaxPacketSize: () => defaultPolicy.mqtt.max_packet_size,
        monoNow: () => clock.monotonic(),
        soon: (fn) => void setImmediate(fn),
        nowMs: () => clock.now(),
      },
      gate: {
        env: this.channelEnv(),
        passwords: deps.passwords,
        authFailureDelayMs: (ip, host) => this.gate.authFailureDelayMs(ip, host),
        later: (ms, fn) => scheduler.setTimer(ms, fn),
        identity: null,
      },
      broker: this,
    };
    // Session figures in presence meta: one source for every MQTT row, read when presence is read.
    deps.presence.setFiguresSource('mqtt', (host, id) => snakeFigures(this.sessions.figures(host, id)));
    this.unsubscribeLiveness = deps.liveness.subscribe((ev) => (ev.type === 'host_config' ? this.retrack(ev.host) : undefined));
  }

  /** Number of open connections (all hosts). */
  get connectionCount(): number {
    return this.gate.size;
  }

  /** Number of subscriptions in a host's router (operators, tests). */
  subscriptionCount(host: string): number {
    return this.hosts.get(host)?.router.size ?? 0;
  }

  /** A new connection (admitted by the gate): it waits for CONNECT within connect_timeout. */
  accepted(conn: BrokerClient): void {
    this.gate.opened(conn);
  }

  open(conn: BrokerClient, st: Connected, connack: IConnackPacket): void | Promise<void> {
    this.gate.established(conn);
    const h = this.hosts.get(st.policy.host)!;
    const claim = h.clients.claim(st.clientId, conn, st.policy.mqtt);
    if (claim instanceof Promise) return claim.then((c) => this.claimed(h, conn, st, connack, c));
    return this.claimed(h, conn, st, connack, claim);
  }

  private claimed(h: HostParts, conn: BrokerClient, st: Connected, connack: IConnackPacket, claim: Claim<BrokerClient>): void | Promise<void> {
    if (!claim.granted) return this.refuse(conn, st, claim.limit);
    const recorded = h.wills.opened(st);
    if (recorded instanceof Promise) return recorded.then(() => this.attach(h, conn, st, connack, claim.previous));
    return this.attach(h, conn, st, connack, claim.previous);
  }

  /** A limit refused the client: CONNACK 3 (v5 0x9F rate / per address, 0x97 quota), then close. */
  private refuse(conn: BrokerClient, st: Connected, limit: string): void {
    this.m.limits.inc({ limit });
    const refusal: IConnackPacket =
      st.version === 5
        ? { cmd: 'connack', sessionPresent: false, reasonCode: limit === 'max_connections' ? RC.quotaExceeded : RC.connectionRateExceeded }
        : { cmd: 'connack', sessionPresent: false, returnCode: V3.serverUnavailable };
    conn.send(refusal);
    conn.end('protocol_error', null, false);
  }

  /** The client id is this connection's: session, liveness, presence; then the takeover. */
  private attach(h: HostParts, conn: BrokerClient, st: Connected, connack: IConnackPacket, previous: BrokerClient | null): void {
    if (conn.ended) {
      // Closed while a claim or will record was on its way: the claim goes back, the takeover stands.
      h.clients.release(st.clientId, conn);
      if (previous) takeOver(previous);
      return;
    }
    const host = h.policy.host;
    const id = st.clientId;
    let present = false;
    const opened = this.sessions.open(
      {
        host,
        clientId: id,
        cleanStart: st.cleanStart,
        version: st.version,
        ...(st.version === 5 ? { sessionExpiryS: st.sessionExpiryS } : {}), // v3: the manager applies session_expiry
        receiveMaximum: st.window, // already min(max_inflight, Receive Maximum)
      },
      conn,
      (p) => {
        // CONNACK before anything is resent [MQTT-3.2.2-2]; the old session's filters left the router (onDeleted).
        present = p;
        connack.sessionPresent = p;
        conn.send(connack);
      },
    );
    this.m.connects.inc();
    // Who the client is goes with the `online` event, so the change feed's first record says it.
    const meta = { username: st.username, protocol_level: st.version, keepalive: st.keepalive, clean_start: st.cleanStart, session_expiry: st.sessionExpiryS, ip: conn.remoteIp, via: conn.via };
    const handle = this.deps.liveness.track({ host, transport: 'mqtt', id }, conn, this.trackOptions(host, st.keepalive, conn.via), meta);
    conn.opened(opened.handle, opened.generation, handle);
    if (this.deps.logger.isLevelEnabled('debug')) this.deps.logger.debug({ event: 'mqtt_connected', host, client_id: id, username: st.username, protocol_level: st.version, keepalive: st.keepalive, session_present: present, takeover: !!previous }, 'MQTT client connected');
    if (previous) takeOver(previous);
  }

  route(conn: BrokerClient, msg: Message): void {
    // QoS 1/2 only: a QoS 0 message never waits in an online subscriber's queue.
    if (msg.qos === 0) return this.publish(this.hosts.get(conn.negotiated!.policy.host)!, msg);
    this.pressure.routing(conn);
    try {
      this.publish(this.hosts.get(conn.negotiated!.policy.host)!, msg);
    } finally {
      this.pressure.routed();
    }
  }

  /** A message of a host: stored when retained, routed to the subscribers. */
  private publish(h: HostParts, msg: Message): void {
    if (msg.retain && h.policy.mqtt.retain_available) h.retained.put(msg);
    h.router.publish(msg);
  }

  subscribed(conn: BrokerClient, subs: readonly { filter: string; opts: SubOptions; existed: boolean }[]): void {
    const st = conn.negotiated!;
    const h = this.hosts.get(st.policy.host)!;
    const now = this.deps.clock.now();
    for (const { filter, opts, existed } of subs) {
      h.router.subscribe(st.clientId, filter, opts);
      if (isSharedFilter(filter)) continue; // no retained messages on a shared subscription [MQTT 5.0 §4.8.2]
      // Retain Handling: 0 send, 1 only for a new subscription, 2 never [MQTT-3.3.1-9..11 v5].
      if (opts.rh === 2 || (opts.rh === 1 && existed)) continue;
      const found = h.retained.matching(filter, now);
      if (found instanceof Promise) found.then((msgs) => this.sendRetained(conn, st, opts, msgs), (err: unknown) => this.internalError(conn, err));
      else this.sendRetained(conn, st, opts, found);
    }
  }

  private sendRetained(conn: BrokerClient, st: Connected, opts: SubOptions, msgs: readonly Message[]): void {
    if (conn.ended) return; // a cluster's answer came after the close
    for (const msg of msgs) {
      if (opts.nl && msg.senderId === st.clientId) continue;
      conn.deliver({ msg, qos: Math.min(msg.qos, opts.qos) as Delivery['qos'], retain: true, subIds: opts.subId === null ? null : [opts.subId] }, null);
    }
  }

  unsubscribed(conn: BrokerClient, filters: readonly string[]): void {
    const st = conn.negotiated!;
    const h = this.hosts.get(st.policy.host)!;
    for (const f of filters) h.router.unsubscribe(st.clientId, f);
  }

  closed(conn: BrokerClient, reason: DisconnectReason, will: boolean): void {
    this.gate.closed(conn);
    const st = conn.negotiated;
    if (!st || !conn.session) return;
    this.pressure.gone(conn.session);
    const h = this.hosts.get(st.policy.host)!;
    h.clients.release(st.clientId, conn);
    // A close of an older generation (after a takeover) does nothing; clean sessions leave the router via onDeleted.
    this.sessions.close(conn.session, conn.sessionGeneration, st.version === 5 ? st.sessionExpiryS : undefined);
    if (reason === 'keepalive_timeout') this.m.keepaliveTimeouts.inc();
    this.deps.logger.debug({ event: 'mqtt_disconnected', host: h.policy.host, client_id: st.clientId, reason, will }, 'MQTT client disconnected');
    conn.handle?.untrack(reason);
    h.wills.closed(st, reason, will);
  }

  whenDurable(cb: (err: Error | null) => void): void {
    this.sessions.whenDurable(cb);
  }

  probeable(conn: BrokerClient): true | string {
    if (this.probeOf(conn) !== 'keepalive') return true;
    const host = conn.negotiated?.policy.host;
    if (host && this.deps.liveness.hostConfig(host)?.mqtt_probe === 'ws_ping') {
      return `mqtt_probe is ws_ping on this host and this client is over ${conn.via}, not WebSocket: it is held to its Keep Alive`;
    }
    return 'mqtt_probe is keepalive on this host: MQTT has no server-to-client ping (set mqtt_probe: pingreq for clients that answer PINGREQ, ws_ping for WebSocket clients)';
  }

  probeOf(conn: BrokerClient): 'ws_ping' | 'pingreq' | 'keepalive' {
    const host = conn.negotiated?.policy.host;
    return host ? probeFor(this.deps.liveness.hostConfig(host)?.mqtt_probe, conn.via) : 'keepalive';
  }

  count(what: CountedEvent): void {
    this.m.count(what);
  }

  internalError(conn: BrokerClient, err: unknown): void {
    this.deps.logger.error({ event: 'mqtt_internal_error', client_id: conn.negotiated?.clientId ?? null, err }, 'MQTT connection failed on an internal error');
  }

  /** Close every client with 'shutdown' (v5 DISCONNECT 0x8B), cancel timers. */
  shutdown(): void {
    this.gate.shutdown();
    for (const c of this.gate.connections()) {
      if (c.handle?.live) c.handle.kill('shutdown');
      else c.end('shutdown', RC.serverShuttingDown, false);
    }
    for (const h of this.hosts.values()) h.wills.shutdown();
    this.unsubscribeLiveness?.();
    this.unsubscribeLiveness = null;
    this.sessions.shutdown(); // commits pending session writes before the store closes
  }

  /** Host mapping (`user@host`), password checks and server-assigned client ids, for the channel. */
  private channelEnv(): ChannelEnv {
    const passwords = this.deps.passwords;
    return {
      resolveHost: (username) => {
        if (username === null) return { policy: this.defaultPolicy, user: null };
        const at = username.lastIndexOf('@');
        const h = at > 0 ? this.hosts.get(username.slice(at + 1).toLowerCase()) : undefined;
        return h ? { policy: h.policy, user: normaliseUser(username.slice(0, at)) } : { policy: this.defaultPolicy, user: normaliseUser(username) };
      },
      authenticate: (host, user, password) => passwords.check(host, user, password),
      newClientId: () => `vigil-${randomBytes(9).toString('base64url')}`,
    };
  }

  private trackOptions(host: string, keepalive: number, via: Via): TrackOptions {
    if (probeFor(this.deps.liveness.hostConfig(host)?.mqtt_probe, via) !== 'keepalive') return { onIdle: 'probe' };
    return { onIdle: 'expire', idleMs: keepalive * 1500 }; // [MQTT-3.1.2-24]
  }

  private retrack(host: string): void {
    const h = this.hosts.get(host);
    if (!h) return;
    for (const c of h.clients.local.values()) {
      if (c.handle?.live && c.negotiated) c.handle.setOptions(this.trackOptions(host, c.negotiated.keepalive, c.via));
    }
  }
}
