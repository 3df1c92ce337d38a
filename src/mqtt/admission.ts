/**
 * The MQTT listener's limits before and around CONNECT, for every host at once (the host is not
 * known before CONNECT names it):
 *   - sockets held at most: the sum of the hosts' max_connections (0 anywhere: no limit);
 *   - new connections per minute per address (max_connection_rate_per_ip): the largest rate of
 *     all hosts when the socket opens, and the host's own at CONNECT (the client registry takes
 *     that token: `rate`);
 *   - connect_timeout of the default host: one sweeper timer for all connections still waiting
 *     for CONNECT, not one per connection;
 *   - auth_failure_delay_ms: how long a CONNECT refused for its credentials waits for its CONNACK.
 * Every refusal is counted (vigil_mqtt_limit_hits_total{limit}) and logged as `mqtt_limit_<limit>`.
 * Per node in a cluster too: sockets, rates and timers are this process's.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { createIpLimits, type IpLimits } from '../ip-limits.js';
import type { DisconnectReason } from '../liveness/types.js';
import type { Clock } from '../time/clock.js';
import type { Scheduler, TimerHandle } from '../time/scheduler.js';
import type { ConnectionRate } from './client-registry.js';
import type { BrokerMetrics } from './metrics.js';

/** A connection as the listener sees it. */
export interface Admitted {
  readonly remoteIp: string;
  /** When the socket was accepted (monotonic ms). */
  readonly openedAtMono: number;
  end(reason: DisconnectReason, code: number | null, will: boolean): void;
}

export interface AdmissionDeps {
  config: Pick<Config, 'hosts'>;
  clock: Clock;
  scheduler: Scheduler;
  logger: Logger;
  metrics: Pick<BrokerMetrics, 'sockets' | 'limits'>;
}

export class Admission<C extends Admitted> {
  /** The connection rate per address, for the client registries' per-host check at CONNECT. */
  readonly rate: ConnectionRate;
  private readonly ipLimits: IpLimits;
  private readonly all = new Set<C>();
  /** Connections waiting for their CONNECT to be accepted. */
  private readonly pending = new Set<C>();
  private sweeper: TimerHandle | null = null;
  /** Sockets the listener holds at most: the sum of the hosts' max_connections (0 = no limit). */
  private readonly acceptTotal: number;
  private readonly connectTimeoutMs: number;

  constructor(private readonly deps: AdmissionDeps) {
    const names = Object.keys(deps.config.hosts);
    const mqttOf = (h: string) => deps.config.hosts[h]!.mqtt;
    const totals = names.map((h) => mqttOf(h).max_connections);
    this.acceptTotal = totals.includes(0) ? 0 : totals.reduce((a, b) => a + b, 0);
    this.connectTimeoutMs = mqttOf(names[0]!).connect_timeout * 1000;
    this.rate = this.ipLimits = createIpLimits({
      clock: deps.clock,
      rates: Object.fromEntries(names.map((h) => [h, mqttOf(h).max_connection_rate_per_ip])),
      authDelays: Object.fromEntries(names.map((h) => [h, mqttOf(h).auth_failure_delay_ms])),
    });
  }

  /** Open sockets (all hosts). */
  get size(): number {
    return this.all.size;
  }

  /** Every open connection (a copy: closing them changes the set). */
  connections(): C[] {
    return [...this.all];
  }

  /** A new socket: the listener's limits, before any byte; then it waits for CONNECT. */
  accepted(conn: C): void {
    this.all.add(conn);
    this.pending.add(conn);
    this.deps.metrics.sockets.inc();
    if (this.acceptTotal > 0 && this.all.size > this.acceptTotal) return this.refuse(conn, 'max_connections');
    if (!this.ipLimits.takeConnection(conn.remoteIp, null)) return this.refuse(conn, 'max_connection_rate_per_ip');
    this.armSweeper();
  }

  /** Its CONNECT was accepted: no CONNECT timeout any more. */
  connected(conn: C): void {
    this.pending.delete(conn);
  }

  closed(conn: C): void {
    this.pending.delete(conn);
    if (this.all.delete(conn)) this.deps.metrics.sockets.dec();
  }

  /** A CONNECT refused for its credentials from `ip`: how long to hold the CONNACK. */
  authFailureDelayMs(ip: string, host: string): number {
    const ms = this.ipLimits.authFailure(ip, host);
    if (ms > 0) this.deps.metrics.limits.inc({ limit: 'auth_failure_delay' });
    return ms;
  }

  shutdown(): void {
    this.sweeper?.cancel();
    this.sweeper = null;
  }

  private refuse(conn: C, limit: string): void {
    this.deps.metrics.limits.inc({ limit });
    this.deps.logger.info({ event: `mqtt_limit_${limit}`, ip: conn.remoteIp }, `mqtt_limit_${limit}`);
    conn.end('protocol_error', null, false);
  }

  private armSweeper(): void {
    if (this.sweeper || this.pending.size === 0) return;
    this.sweeper = this.deps.scheduler.setTimer(1_000, () => {
      this.sweeper = null;
      const now = this.deps.clock.monotonic();
      for (const c of this.pending) {
        if (now - c.openedAtMono < this.connectTimeoutMs) continue;
        this.deps.metrics.limits.inc({ limit: 'connect_timeout' });
        c.end('protocol_error', null, false);
      }
      this.armSweeper();
    });
  }
}
