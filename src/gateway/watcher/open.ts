/**
 * The watcher of a gateway from its `mqtt:` settings: URL, credentials, TLS files (read once at
 * start), client id (default vigil-watch-<name>), timings. null when no `mqtt.url` is set.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { GatewayConfig } from '../../config/types.js';
import type { Clock } from '../../time/clock.js';
import type { Scheduler } from '../../time/scheduler.js';
import type { WatcherSettings } from './machine.js';
import { MqttWatcher, type WatcherDeps, parseMqttUrl } from './watcher.js';

/** What the gateway needs of a watcher. */
export interface Watcher {
  readonly state: string;
  readonly lastRttMs: number | null;
  start(): void;
  stop(): void;
}

export function watcherSettings(name: string, m: GatewayConfig['mqtt'], filters: readonly string[]): WatcherSettings {
  return {
    clientId: m.client_id ?? `vigil-watch-${name}`,
    username: m.username,
    password: m.password,
    filters,
    pingIntervalMs: m.ping_interval * 1000,
    ackTimeoutMs: m.ping_ack_timeout * 1000,
    reconnectMinMs: m.reconnect_min_ms,
    reconnectMaxMs: Math.max(m.reconnect_min_ms, m.reconnect_max_ms),
    rand: Math.random,
  };
}

function tlsOptions(m: GatewayConfig['mqtt'], host: string): ConnectionOptions {
  const t = m.tls;
  const o: ConnectionOptions = { servername: t.servername ?? host, rejectUnauthorized: t.reject_unauthorized };
  if (t.ca_file) o.ca = readFileSync(t.ca_file);
  if (t.cert_file && t.key_file) {
    o.cert = readFileSync(t.cert_file);
    o.key = readFileSync(t.key_file);
  }
  return o;
}

export function openWatcher(
  name: string,
  m: GatewayConfig['mqtt'],
  filters: readonly string[],
  clock: Clock,
  scheduler: Scheduler,
  hooks: Pick<WatcherDeps, 'onUp' | 'onLost' | 'onMessage'>,
  open?: WatcherDeps['open'],
): Watcher | null {
  if (m.url === null) return null;
  const u = parseMqttUrl(m.url);
  const deps: WatcherDeps = {
    settings: watcherSettings(name, m, filters),
    endpoint: { host: u.host, port: u.port, tls: u.tls ? tlsOptions(m, u.host) : null },
    clock,
    scheduler,
    ...hooks,
  };
  if (open) deps.open = open;
  return new MqttWatcher(deps);
}
