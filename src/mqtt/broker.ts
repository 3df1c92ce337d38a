/**
 * The broker: per host client registry, sessions, subscription trie, retained messages and wills,
 * and the bridge to the liveness core and the presence table. Connections (connection.ts) call it
 * to open a session (takeover included), route messages, change subscriptions and close.
 *
 * Takeover [MQTT-3.1.4-2/3]: the new connection is tracked first (a fresh liveness generation
 * supersedes the old handle silently, so presence shows one continuous online endpoint), then the
 * old one is killed with 'taken_over' (v5 DISCONNECT 0x8E) and its will published.
 * Liveness: mqtt_probe = keepalive -> onIdle 'expire' after 1.5 x Keep Alive [MQTT-3.1.2-24]
 * (0 = never); pingreq -> onIdle 'probe' (server PINGREQ, opt-in). Switched live on `host_config`.
 * One sweeper timer (not one per connection) enforces the CONNECT timeout.
 * Sessions are the session core's (src/mqtt-session/, docs/sessions.md "Wiring"): a SessionService
 * with a batching durable writer on store.sessions; persistent sessions come back at start-up
 * (their filters back into the trie), routing goes through it (online, queued offline, or no
 * session), and a deleted session's filters leave the trie (onDeleted).
 */
import { randomBytes } from 'node:crypto';
import type { IConnackPacket } from 'mqtt-packet';
import type { PasswordChecker } from '../auth/password-cache.js';
import type { CoreDeps } from '../deps.js';
import { createIpLimits, type IpLimits } from '../ip-limits.js';
import { normaliseLocal } from '../jid.js';
import type { DisconnectReason, TrackOptions } from '../liveness/types.js';
import type { TimerHandle } from '../time/scheduler.js';
import type { ChannelEnv, Connected, Effect, HostPolicy } from './channel.js';
import type { ConnectionHost, PacketCounters } from './connection-host.js';
import type { MqttConnection } from './connection.js';
import { PacketDecoder } from './decoder.js';
import { EncodeCache } from './deliver.js';
import { hostPolicy } from './host-policy.js';
import type { Delivery, Message } from './message.js';
import { createBrokerMetrics, type BrokerMetrics } from './metrics.js';
import { RC, V3 } from './reason-codes.js';
import { RetainedIndex } from './retained.js';
import type { SubOptions } from './channel-session.js';
import type { SessionService } from '../mqtt-session/session-service.js';
import { composeSessions, snakeFigures } from './broker-sessions.js';
import { SubscriptionTrie } from './trie.js';
import { scheduleWill } from './wills.js';

/** What the MQTT side needs from the composition root (app.ts): the core parts and the shared password checker. */
export type MqttDeps = CoreDeps & { readonly passwords: PasswordChecker };

export type BrokerDeps = Pick<MqttDeps, 'config' | 'clock' | 'scheduler' | 'store' | 'liveness' | 'presence' | 'metrics' | 'logger' | 'passwords'>;

interface SubEntry {
  clientId: string;
  opts: SubOptions;
}

interface HostState {
  policy: HostPolicy;
  trie: SubscriptionTrie<SubEntry>;
  retained: RetainedIndex;
  clients: Map<string, MqttConnection>;
  /** Delayed wills (v5 Will Delay Interval), cancelled when the client id reconnects [MQTT-3.1.3-9]. */
  wills: Map<string, TimerHandle>;
  perIp: Map<string, number>;
}

/** Users are stored under their normalised name, like an XMPP localpart (src/jid.ts); a name that cannot be normalised stays as it is (and finds no user). */
function normaliseUser(user: string): string {
  try {
    return normaliseLocal(user);
  } catch {
    return user;
  }
}

export class Broker implements ConnectionHost {
  readonly env: ChannelEnv;
  readonly decoder = new PacketDecoder();
  readonly counters: PacketCounters;
  readonly passwords: PasswordChecker;
  private readonly hosts = new Map<string, HostState>();
  private readonly defaultHost: HostState;
  private readonly pending = new Set<MqttConnection>();
  private readonly all = new Set<MqttConnection>();
  private sweeper: TimerHandle | null = null;
  private readonly m: BrokerMetrics;
  private readonly scratch: SubEntry[] = [];
  private unsubscribeLiveness: (() => void) | null = null;
  private readonly ipLimits: IpLimits;
  /** Sockets the listener holds at most: the sum of the hosts' max_connections (0 = no limit). */
  private readonly acceptTotal: number;
  /** Sessions (clean and persistent), their windows, queues and durable state. */
  readonly sessions: SessionService<Delivery, SubOptions>;

  constructor(private readonly deps: BrokerDeps) {
    const names = Object.keys(deps.config.hosts);
    if (names.length === 0) throw new Error('mqtt: no host configured');
    for (const name of names) {
      const retained = new RetainedIndex(name, deps.store.retained, deps.clock);
      retained.load();
      this.hosts.set(name, {
        policy: hostPolicy(name, deps.config.hosts[name]!.mqtt),
        trie: new SubscriptionTrie(),
        retained,
        clients: new Map(),
        wills: new Map(),
        perIp: new Map(),
      });
    }
    this.defaultHost = this.hosts.get(names[0]!)!;
    this.sessions = composeSessions(deps, {
      onDrop: () => this.counters.dropped.value++,
      restoreSubscription: (host, clientId, filter, opts) => this.hosts.get(host)?.trie.add(filter, clientId, { clientId, opts }),
      removeSubscription: (host, clientId, filter) => this.hosts.get(host)?.trie.remove(filter, clientId),
    });
    this.m = createBrokerMetrics(deps.metrics);
    this.counters = this.m.counters;
    const mqttOf = (h: string) => deps.config.hosts[h]!.mqtt;
    const totals = names.map((h) => mqttOf(h).max_connections);
    this.acceptTotal = totals.includes(0) ? 0 : totals.reduce((a, b) => a + b, 0);
    this.ipLimits = createIpLimits({
      clock: deps.clock,
      rates: Object.fromEntries(names.map((h) => [h, mqttOf(h).max_connection_rate_per_ip])),
      authDelays: Object.fromEntries(names.map((h) => [h, mqttOf(h).auth_failure_delay_ms])),
    });
    const passwords = (this.passwords = deps.passwords); // built in app.ts, shared with XMPP
    this.env = {
      resolveHost: (username) => {
        if (username === null) return { policy: this.defaultHost.policy, user: null };
        const at = username.lastIndexOf('@');
        const h = at > 0 ? this.hosts.get(username.slice(at + 1).toLowerCase()) : undefined;
        return h ? { policy: h.policy, user: normaliseUser(username.slice(0, at)) } : { policy: this.defaultHost.policy, user: normaliseUser(username) };
      },
      authenticate: (host, user, password) => passwords.check(host, user, password),
      newClientId: () => `vigil-${randomBytes(9).toString('base64url')}`,
    };
    // Session figures in presence meta: one source for every MQTT row, read when presence is read.
    deps.presence.setFiguresSource('mqtt', (host, id) => snakeFigures(this.sessions.figures(host, id)));
    this.unsubscribeLiveness = deps.liveness.subscribe((ev) => (ev.type === 'host_config' ? this.retrack(ev.host) : undefined));
  }

  whenDurable(cb: (err: Error | null) => void): void {
    this.sessions.whenDurable(cb);
  }

  monoNow(): number {
    return this.deps.clock.monotonic();
  }

  nowMs(): number {
    return this.deps.clock.now();
  }

  defaultMaxPacketSize(): number {
    return this.defaultHost.policy.mqtt.max_packet_size;
  }

  /** Number of open connections (all hosts). */
  get connectionCount(): number {
    return this.all.size;
  }

  /** Number of subscriptions in a host's trie (operators, tests). */
  subscriptionCount(host: string): number {
    return this.hosts.get(host)?.trie.size ?? 0;
  }

  /** A new socket: wait for CONNECT within connect_timeout (one sweeper for all). */
  accepted(conn: MqttConnection): void {
    this.all.add(conn);
    this.pending.add(conn);
    this.m.sockets.inc();
    // Listener limits, before any byte: total sockets and new connections per minute per address.
    if (this.acceptTotal > 0 && this.all.size > this.acceptTotal) return this.refuseSocket(conn, 'max_connections');
    if (!this.ipLimits.takeConnection(conn.remoteIp, null)) return this.refuseSocket(conn, 'max_connection_rate_per_ip');
    this.armSweeper();
  }

  private refuseSocket(conn: MqttConnection, limit: string): void {
    this.m.limits.inc({ limit });
    this.deps.logger.info({ event: `mqtt_limit_${limit}`, ip: conn.remoteIp }, `mqtt_limit_${limit}`);
    conn.end('protocol_error', null, false);
  }

  /** A CONNECT refused for its credentials: how long to hold the CONNACK (auth_failure_delay_ms). */
  authFailureDelayMs(conn: MqttConnection, host: string): number {
    const ms = this.ipLimits.authFailure(conn.remoteIp, host);
    if (ms > 0) this.m.limits.inc({ limit: 'auth_failure_delay' });
    return ms;
  }

  later(ms: number, fn: () => void): TimerHandle {
    return this.deps.scheduler.setTimer(ms, fn);
  }

  private armSweeper(): void {
    if (this.sweeper || this.pending.size === 0) return;
    this.sweeper = this.deps.scheduler.setTimer(1_000, () => {
      this.sweeper = null;
      const limitMs = this.defaultHost.policy.mqtt.connect_timeout * 1000;
      const now = this.monoNow();
      for (const c of this.pending) {
        if (now - c.openedAtMono < limitMs) continue;
        this.m.limits.inc({ limit: 'connect_timeout' });
        c.end('protocol_error', null, false);
      }
      this.armSweeper();
    });
  }

  open(conn: MqttConnection, st: Connected, connack: IConnackPacket): void {
    this.pending.delete(conn);
    const h = this.hosts.get(st.policy.host)!;
    const limit = st.policy.mqtt.max_connections_per_ip;
    const ipCount = h.perIp.get(conn.remoteIp) ?? 0;
    const old = h.clients.get(st.clientId);
    // A takeover from the same address replaces a connection, it does not add one.
    const replacing = old !== undefined && old.remoteIp === conn.remoteIp ? 1 : 0;
    const total = st.policy.mqtt.max_connections;
    let refused: [string, number] | null = null;
    if (limit > 0 && ipCount - replacing >= limit) refused = ['max_connections_per_ip', RC.connectionRateExceeded];
    else if (total > 0 && !old && h.clients.size >= total) refused = ['max_connections', RC.quotaExceeded];
    else if (!this.ipLimits.takeConnection(conn.remoteIp, h.policy.host)) refused = ['max_connection_rate_per_ip', RC.connectionRateExceeded];
    if (refused) {
      this.m.limits.inc({ limit: refused[0] });
      const refusal: IConnackPacket =
        st.version === 5
          ? { cmd: 'connack', sessionPresent: false, reasonCode: refused[1] }
          : { cmd: 'connack', sessionPresent: false, returnCode: V3.serverUnavailable };
      conn.send(refusal);
      conn.negotiated = null;
      return conn.end('protocol_error', null, false);
    }
    h.perIp.set(conn.remoteIp, ipCount + 1);
    const id = st.clientId;
    h.wills.get(id)?.cancel();
    h.wills.delete(id);
    h.clients.set(id, conn);
    let present = false;
    const opened = this.sessions.open(
      {
        host: h.policy.host,
        clientId: id,
        cleanStart: st.cleanStart,
        version: st.version,
        ...(st.version === 5 ? { sessionExpiryS: st.sessionExpiryS } : {}), // v3: the manager applies session_expiry
        receiveMaximum: st.window, // already min(max_inflight, Receive Maximum)
      },
      conn,
      (p) => {
        // CONNACK before anything is resent [MQTT-3.2.2-2]; the old session's filters left the trie (onDeleted).
        present = p;
        connack.sessionPresent = p;
        conn.send(connack);
      },
    );
    conn.session = opened.handle;
    conn.sessionGeneration = opened.generation;
    this.m.connects.inc();
    const handle = this.deps.liveness.track({ host: h.policy.host, transport: 'mqtt', id }, conn, this.trackOptions(h.policy.host, st.keepalive));
    conn.handle = handle;
    this.deps.presence.setMeta(handle.ref, {
      username: st.username,
      protocol_level: st.version,
      keepalive: st.keepalive,
      clean_start: st.cleanStart,
      session_expiry: st.sessionExpiryS,
      ip: conn.remoteIp,
    });
    if (this.deps.logger.isLevelEnabled('debug')) this.deps.logger.debug({ event: 'mqtt_connected', host: h.policy.host, client_id: id, username: st.username, protocol_level: st.version, keepalive: st.keepalive, session_present: present, takeover: !!old }, 'MQTT client connected');
    if (old) old.kill(old.handle?.ref ?? handle.ref, 'taken_over');
  }

  private trackOptions(host: string, keepalive: number): TrackOptions {
    if (this.deps.liveness.hostConfig(host)?.mqtt_probe === 'pingreq') return { onIdle: 'probe' };
    return { onIdle: 'expire', idleMs: keepalive * 1500 }; // [MQTT-3.1.2-24]
  }

  private retrack(host: string): void {
    const h = this.hosts.get(host);
    if (!h) return;
    for (const c of h.clients.values()) {
      if (c.handle?.live && c.negotiated) c.handle.setOptions(this.trackOptions(host, c.negotiated.keepalive));
    }
  }

  probeable(conn: MqttConnection): true | string {
    const host = conn.negotiated?.policy.host;
    if (host && this.deps.liveness.hostConfig(host)?.mqtt_probe === 'pingreq') return true;
    return 'mqtt_probe is keepalive on this host: MQTT has no server-to-client ping (set mqtt_probe: pingreq for clients that answer PINGREQ)';
  }

  route(conn: MqttConnection, e: Extract<Effect, { type: 'route' }>): void {
    const h = this.hosts.get(conn.negotiated!.policy.host)!;
    this.publish(h, e.msg);
  }

  /** Route a message to the subscribers of its host; store it when retained. */
  private publish(h: HostState, msg: Message): void {
    const now = this.nowMs();
    if (msg.retain && h.policy.mqtt.retain_available) h.retained.put(msg);
    const matches = h.trie.match(msg.topic, this.scratch);
    if (matches.length === 0) return;
    const cache = new EncodeCache(now);
    if (matches.length === 1) {
      const s = matches[0]!;
      matches.length = 0;
      if (s.opts.nl && s.clientId === msg.senderId) return;
      return this.sendTo(h, s.clientId, {
        msg,
        qos: Math.min(msg.qos, s.opts.qos) as Delivery['qos'],
        retain: s.opts.rap && msg.retain,
        subIds: s.opts.subId === null ? null : [s.opts.subId],
      }, cache);
    }
    // Overlapping subscriptions of one client: one delivery at the highest QoS, all ids [MQTT-3.3.5-1].
    const per = new Map<string, Delivery>();
    for (const s of matches) {
      if (s.opts.nl && s.clientId === msg.senderId) continue;
      const qos = Math.min(msg.qos, s.opts.qos) as Delivery['qos'];
      const d = per.get(s.clientId);
      if (!d) {
        per.set(s.clientId, { msg, qos, retain: s.opts.rap && msg.retain, subIds: s.opts.subId === null ? null : [s.opts.subId] });
      } else {
        if (qos > d.qos) d.qos = qos;
        if (s.opts.rap && msg.retain) d.retain = true;
        if (s.opts.subId !== null) (d.subIds ??= []).push(s.opts.subId);
      }
    }
    matches.length = 0;
    for (const [clientId, d] of per) this.sendTo(h, clientId, d, cache);
  }

  private sendTo(h: HostState, clientId: string, d: Delivery, cache: EncodeCache): void {
    const conn = h.clients.get(clientId);
    // QoS 0 to an online client keeps the shared-encoding fast path; the rest goes through the session.
    if (conn && d.qos === 0 && conn.connected) conn.deliverQos0(d, cache);
    else this.sessions.deliver(h.policy.host, clientId, d);
  }

  subscribed(conn: MqttConnection, e: Extract<Effect, { type: 'subscribed' }>): void {
    const st = conn.negotiated!;
    const h = this.hosts.get(st.policy.host)!;
    const now = this.nowMs();
    for (const { filter, opts, existed } of e.subs) {
      h.trie.add(filter, st.clientId, { clientId: st.clientId, opts });
      // Retain Handling: 0 send, 1 only for a new subscription, 2 never [MQTT-3.3.1-9..11 v5].
      if (opts.rh === 2 || (opts.rh === 1 && existed)) continue;
      for (const msg of h.retained.matching(filter, now)) {
        if (opts.nl && msg.senderId === st.clientId) continue;
        conn.deliver({ msg, qos: Math.min(msg.qos, opts.qos) as Delivery['qos'], retain: true, subIds: opts.subId === null ? null : [opts.subId] }, null);
      }
    }
  }

  unsubscribed(conn: MqttConnection, filters: string[]): void {
    const st = conn.negotiated!;
    const h = this.hosts.get(st.policy.host)!;
    for (const f of filters) h.trie.remove(f, st.clientId);
  }

  closed(conn: MqttConnection, reason: DisconnectReason, will: boolean): void {
    this.pending.delete(conn);
    if (this.all.delete(conn)) this.m.sockets.dec();
    const st = conn.negotiated;
    if (!st || !conn.session) return;
    const h = this.hosts.get(st.policy.host)!;
    const n = (h.perIp.get(conn.remoteIp) ?? 1) - 1;
    if (n <= 0) h.perIp.delete(conn.remoteIp);
    else h.perIp.set(conn.remoteIp, n);
    if (h.clients.get(st.clientId) === conn) {
      h.clients.delete(st.clientId);
    }
    // A close of an older generation (after a takeover) does nothing; clean sessions leave the trie via onDeleted.
    this.sessions.close(conn.session, conn.sessionGeneration, st.version === 5 ? st.sessionExpiryS : undefined);
    if (reason === 'keepalive_timeout') this.m.keepaliveTimeouts.inc();
    this.deps.logger.debug({ event: 'mqtt_disconnected', host: h.policy.host, client_id: st.clientId, reason, will }, 'MQTT client disconnected');
    conn.handle?.untrack(reason);
    if (will && st.will) this.scheduleWill(h, st, reason);
  }

  private scheduleWill(h: HostState, st: Connected, reason: DisconnectReason): void {
    const env = { scheduler: this.deps.scheduler, nowMs: () => this.nowMs(), publish: (m: Message) => this.publish(h, m), aclDenied: () => this.m.aclDenied.inc() };
    scheduleWill(env, h.policy, h.wills, st, reason);
  }

  internalError(conn: MqttConnection, err: unknown): void {
    this.deps.logger.error({ event: 'mqtt_internal_error', client_id: conn.negotiated?.clientId ?? null, err }, 'MQTT connection failed on an internal error');
  }

  count(what: 'auth_failure' | 'acl_denied' | 'limit' | 'max_subscriptions'): void {
    this.m.count(what);
  }

  /** Close every client with 'shutdown' (v5 DISCONNECT 0x8B), cancel timers. */
  shutdown(): void {
    this.sweeper?.cancel();
    this.sweeper = null;
    for (const c of [...this.all]) {
      if (c.handle?.live) c.handle.kill('shutdown');
      else c.end('shutdown', RC.serverShuttingDown, false);
    }
    for (const h of this.hosts.values()) for (const t of h.wills.values()) t.cancel();
    this.unsubscribeLiveness?.();
    this.unsubscribeLiveness = null;
    this.sessions.shutdown(); // commits pending session writes before the store closes
  }
}
