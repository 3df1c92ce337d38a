/**
 * The connection limits of one protocol's listeners (every MQTT listener shares one gate, every
 * XMPP listener another), written once for both protocols (issue 14):
 *
 *   attempt(ip, listener)  a new socket, before any byte (before the TLS handshake, before the
 *                          WebSocket upgrade): the listener's max_conn_rate, then the address's
 *                          max_connection_rate_per_ip (largest of all hosts; 0 anywhere = off)
 *   admit(ip)              the connection is about to be served: max_connections (sum of all
 *                          hosts) and max_connections_per_ip (largest of all hosts)
 *   opened(c)              served: counted, and waiting for its handshake (handshake timeout)
 *   established(c)         MQTT CONNECT accepted / XMPP resource bound: no timeout any more
 *   admitHost(c, host)     XMPP stream header named the host: that host's own per-address,
 *                          total and rate limits (MQTT's are its client registry's, a seam)
 *   hold / release         a slot without a connection: an XMPP session waiting for its resume
 *                          (XEP-0198) counts against the totals, its address and its host
 *   closed(c)              once, when the connection is gone
 *
 * Every refusal is counted in vigil_<protocol>_limit_hits_total{limit} and logged as
 * `<protocol>_limit_<limit>` (the names each protocol had). The handshake timeout is one timer
 * for all waiting connections (they share one timeout, so the oldest is always the next due),
 * armed for the exact deadline on the injected scheduler. Open connections by transport are a
 * gauge read at scrape time (vigil_<protocol>_connections{via}): nothing per connection is kept
 * for it, and an XMPP stream that turned to TLS by STARTTLS counts as tls from then on.
 * Per node in a cluster: sockets, rates and timers are this process's.
 */
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { Metrics } from '../metrics.js';
import type { Clock } from '../time/clock.js';
import type { Scheduler, TimerHandle } from '../time/scheduler.js';
import type { Via } from './connection.js';
import { createIpLimits, type IpLimits } from './ip-limits.js';
import type { ListenerRate } from './listener-rate.js';

/** The connection limits of one host for one protocol (its `xmpp.*` / `mqtt.*` options). */
export interface HostLimits {
  readonly max_connections: number;
  readonly max_connections_per_ip: number;
  readonly max_connection_rate_per_ip: number;
  readonly auth_failure_delay_ms: number;
}

/** What the gate needs of a protocol connection. */
export interface Gated {
  readonly remoteIp: string;
  /** When it was served (monotonic ms): the start of its handshake time. */
  readonly openedAtMono: number;
  /** Its transport now (read at scrape time). */
  readonly via: Via;
  /** The handshake took too long: close it the protocol's way (it calls `closed` then). */
  handshakeTimeout(): void;
}

export interface GateDeps {
  protocol: 'xmpp' | 'mqtt';
  hosts: Record<string, HostLimits>;
  handshakeTimeoutMs: number;
  /** The limit a handshake timeout counts as (MQTT connect_timeout, XMPP handshake_timeout). */
  handshakeLimit: string;
  clock: Clock;
  scheduler: Scheduler;
  logger: Logger;
  metrics: Metrics;
  /** vigil_<protocol>_limit_hits_total{limit}, made by the protocol's metrics module. */
  limitHits: Counter<'limit'>;
}

const VIAS: readonly Via[] = ['tcp', 'tls', 'ws', 'wss'];

export class ConnectionGate<C extends Gated> {
  /** The per-address rate, also taken per host by MQTT's client registry at CONNECT. */
  readonly rate: IpLimits;
  private readonly all = new Set<C>();
  /** Waiting for their handshake, oldest first (a Set keeps insertion order). */
  private readonly pending = new Set<C>();
  private readonly perIp = new Map<string, number>();
  /** Host admission (XMPP): the host each admitted connection counts against. */
  private readonly hostOf = new Map<C, string>();
  private readonly perHost = new Map<string, number>();
  private readonly perHostIp = new Map<string, number>();
  /** Slots held without a connection (hold/release). */
  private held = 0;
  private readonly acceptTotal: number;
  private readonly acceptPerIp: number;
  private timer: TimerHandle | null = null;

  constructor(private readonly deps: GateDeps) {
    const limits = Object.values(deps.hosts);
    const totals = limits.map((l) => l.max_connections);
    this.acceptTotal = totals.length === 0 || totals.includes(0) ? 0 : totals.reduce((a, b) => a + b, 0);
    const perIp = limits.map((l) => l.max_connections_per_ip);
    this.acceptPerIp = perIp.includes(0) ? 0 : Math.max(0, ...perIp);
    this.rate = createIpLimits({
      clock: deps.clock,
      rates: Object.fromEntries(Object.entries(deps.hosts).map(([h, l]) => [h, l.max_connection_rate_per_ip])),
      authDelays: Object.fromEntries(Object.entries(deps.hosts).map(([h, l]) => [h, l.auth_failure_delay_ms])),
    });
    deps.metrics.gauge(`vigil_${deps.protocol}_connections`, `Open ${deps.protocol.toUpperCase()} connections by transport (tcp, tls, ws, wss)`, ['via'] as const, (g) => {
      const n: Record<Via, number> = { tcp: 0, tls: 0, ws: 0, wss: 0 };
      for (const c of this.all) n[c.via]++;
      for (const via of VIAS) g.set({ via }, n[via]);
    });
  }

  /** How long a connection may take to finish its handshake. */
  get handshakeTimeoutMs(): number {
    return this.deps.handshakeTimeoutMs;
  }

  /** Open connections (all listeners). */
  get size(): number {
    return this.all.size;
  }

  /** Every open connection (a copy: closing them changes the set). */
  connections(): C[] {
    return [...this.all];
  }

  /** A new socket on `listener` from `ip`, before any byte: false = refused (counted and logged). */
  attempt(ip: string, listener: ListenerRate): boolean {
    if (!listener.take()) return this.refuse(ip, 'max_conn_rate', listener.perSecond, { listener: listener.listener });
    if (!this.rate.takeConnection(ip, null)) return this.refuse(ip, 'max_connection_rate_per_ip', this.rate.acceptRate);
    return true;
  }

  /** About to serve a connection from `ip`: false = refused (counted and logged). */
  admit(ip: string): boolean {
    if (this.acceptPerIp > 0 && (this.perIp.get(ip) ?? 0) >= this.acceptPerIp) return this.refuse(ip, 'max_connections_per_ip', this.acceptPerIp);
    if (this.acceptTotal > 0 && this.all.size + this.held >= this.acceptTotal) return this.refuse(ip, 'max_connections', this.acceptTotal);
    return true;
  }

  /** `c` is served: counted, and its handshake time runs. */
  opened(c: C): void {
    this.all.add(c);
    this.perIp.set(c.remoteIp, (this.perIp.get(c.remoteIp) ?? 0) + 1);
    this.pending.add(c);
    this.arm();
  }

  /** Its handshake is done (CONNECT accepted, resource bound): no timeout any more. */
  established(c: C): void {
    this.pending.delete(c);
  }

  /**
   * The stream header named `host` (XMPP): that host's max_connections_per_ip, max_connections and
   * rate for this address. False = refused (counted and logged); true = counted until `closed`.
   */
  admitHost(c: C, host: string): boolean {
    const l = this.deps.hosts[host];
    if (!l || this.hostOf.has(c)) return l !== undefined;
    const key = `${host}\u0000${c.remoteIp}`;
    const n = this.perHostIp.get(key) ?? 0;
    if (l.max_connections_per_ip > 0 && n >= l.max_connections_per_ip) return this.refuse(c.remoteIp, 'max_connections_per_ip', l.max_connections_per_ip, { host });
    if (l.max_connections > 0 && (this.perHost.get(host) ?? 0) >= l.max_connections) return this.refuse(c.remoteIp, 'max_connections', l.max_connections, { host });
    if (!this.rate.takeConnection(c.remoteIp, host)) return this.refuse(c.remoteIp, 'max_connection_rate_per_ip', l.max_connection_rate_per_ip, { host });
    this.perHostIp.set(key, n + 1);
    this.perHost.set(host, (this.perHost.get(host) ?? 0) + 1);
    this.hostOf.set(c, host);
    return true;
  }

  /** A slot of `host` and `ip` held without a connection (an XMPP session waiting for its resume). */
  hold(host: string, ip: string): void {
    this.held++;
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    this.perHost.set(host, (this.perHost.get(host) ?? 0) + 1);
    const key = `${host}\u0000${ip}`;
    this.perHostIp.set(key, (this.perHostIp.get(key) ?? 0) + 1);
  }

  release(host: string, ip: string): void {
    this.held--;
    decrement(this.perIp, ip);
    decrement(this.perHost, host);
    decrement(this.perHostIp, `${host}\u0000${ip}`);
  }

  /** A failed authentication from `ip` on `host`: how long to hold its answer (ms; counted when > 0). */
  authFailureDelayMs(ip: string, host: string | null): number {
    const ms = this.rate.authFailure(ip, host);
    if (ms > 0) this.deps.limitHits.inc({ limit: 'auth_failure_delay' });
    return ms;
  }

  /** `c` is gone (once; a second call does nothing). */
  closed(c: C): void {
    if (!this.all.delete(c)) return;
    this.pending.delete(c);
    decrement(this.perIp, c.remoteIp);
    const host = this.hostOf.get(c);
    if (host !== undefined) {
      this.hostOf.delete(c);
      decrement(this.perHost, host);
      decrement(this.perHostIp, `${host}\u0000${c.remoteIp}`);
    }
  }

  shutdown(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  private refuse(ip: string, limit: string, value: number, where: { host?: string; listener?: string } = {}): false {
    const { protocol, logger, limitHits } = this.deps;
    limitHits.inc({ limit });
    logger.info({ event: `${protocol}_limit_${limit}`, ip, limit: value, ...where }, `${protocol}_limit_${limit}`);
    return false;
  }

  /** One timer for the oldest waiting connection's deadline. */
  private arm(): void {
    if (this.timer !== null) return;
    const first = this.pending.values().next();
    if (first.done) return;
    const due = first.value.openedAtMono + this.deps.handshakeTimeoutMs - this.deps.clock.monotonic();
    this.timer = this.deps.scheduler.setTimer(Math.max(0, due), () => this.expire());
  }

  private expire(): void {
    this.timer = null;
    const now = this.deps.clock.monotonic();
    const late: C[] = [];
    for (const c of this.pending) {
      if (now - c.openedAtMono < this.deps.handshakeTimeoutMs) break;
      late.push(c);
    }
    for (const c of late) {
      this.pending.delete(c);
      this.deps.limitHits.inc({ limit: this.deps.handshakeLimit });
      c.handshakeTimeout();
    }
    this.arm();
  }
}

function decrement(m: Map<string, number>, k: string): void {
  const n = (m.get(k) ?? 1) - 1;
  if (n <= 0) m.delete(k);
  else m.set(k, n);
}
