/**
 * Liveness and connection metrics for GET /metrics, derived without touching the hot path:
 *   - counters and the rtt histogram follow liveness events (registry.subscribe);
 *   - gauges (connections per host, transport and via, tracked endpoints, event loop delay) are computed
 *     at scrape time by `refresh()`, so they cost nothing between scrapes.
 * Names follow Prometheus conventions (vigil_<what>_<unit>_total). MQTT message and queue metrics
 * belong to the MQTT service, which registers its own through deps.metrics.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { LivenessRegistry } from '../liveness/types.js';
import type { Metrics } from '../metrics.js';
import type { PresenceTable } from '../presence/types.js';

export interface LivenessMetrics {
  /** Recompute the scrape-time gauges. */
  refresh(): void;
  stop(): void;
}

const VIAS = ['tcp', 'tls', 'ws', 'wss'] as const;
const RTT_BUCKETS_S = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function registerLivenessMetrics(deps: {
  metrics: Metrics;
  liveness: Pick<LivenessRegistry, 'subscribe' | 'hosts' | 'size'>;
  presence: Pick<PresenceTable, 'count' | 'countByVia'>;
  config: { hosts: Record<string, unknown> };
}): LivenessMetrics {
  const m = deps.metrics;
  const L = ['host', 'transport'] as const;
  const pingsSent = m.counter('vigil_pings_sent_total', 'Liveness probes sent (XMPP ping, MQTT PINGREQ)', L);
  const pingsAnswered = m.counter('vigil_pings_answered_total', 'Probes answered (answer=pong|unsupported)', [...L, 'answer']);
  const pingTimeouts = m.counter('vigil_ping_timeouts_total', 'Probes unanswered within ping_ack_timeout', L);
  const keepaliveTimeouts = m.counter('vigil_keepalive_timeouts_total', 'MQTT keepalive expiries [MQTT-3.1.2-24]', L);
  const kills = m.counter('vigil_kills_total', 'Connections closed by Vigil (reason=ping_timeout|keepalive_timeout|kicked|...)', [...L, 'reason']);
  const connects = m.counter('vigil_connections_opened_total', 'Endpoints that came online', L);
  const disconnects = m.counter('vigil_disconnects_total', 'Endpoints that went offline, by reason', [...L, 'reason']);
  const rtt = m.histogram('vigil_ping_rtt_seconds', 'Round-trip time of answered probes', RTT_BUCKETS_S, L);
  const connections = m.gauge('vigil_connections', 'Connected endpoints per host, protocol (transport) and network transport (via: tcp, tls, ws, wss)', [...L, 'via']);
  const tracked = m.gauge('vigil_tracked_endpoints', 'Endpoints tracked by the liveness core per host', ['host']);
  const loopDelay = m.gauge('vigil_event_loop_delay_seconds', 'Event loop delay since the previous scrape', ['quantile']);

  const timedOut = (reason: string, l: { host: string; transport: string }) => {
    if (reason === 'ping_timeout') pingTimeouts.inc(l);
    else if (reason === 'keepalive_timeout') keepaliveTimeouts.inc(l);
  };

  const unsubscribe = deps.liveness.subscribe((e) => {
    if (e.type === 'host_config') return;
    const l = { host: e.ref.host, transport: e.ref.transport };
    switch (e.type) {
      case 'probe_sent':
        return pingsSent.inc(l);
      case 'probe_answered':
        pingsAnswered.inc({ ...l, answer: e.answer });
        return rtt.observe(l, e.rttMs / 1000);
      // The core emits ping_timeout only with timeout_action none; with kill the timeout is the
      // kill's reason. Either way it counts once.
      case 'ping_timeout':
        return timedOut(e.reason, l);
      case 'killed':
        timedOut(e.reason, l);
        return kills.inc({ ...l, reason: e.reason });
      case 'online':
        return connects.inc(l);
      case 'offline':
        return disconnects.inc({ ...l, reason: e.reason });
      default:
        return;
    }
  });

  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();

  return {
    refresh() {
      connections.reset();
      tracked.reset();
      const hosts = new Set([...Object.keys(deps.config.hosts), ...deps.liveness.hosts()]);
      for (const host of hosts) {
        for (const transport of ['xmpp', 'mqtt'] as const) {
          const byVia = deps.presence.countByVia(host, transport);
          for (const via of VIAS) connections.set({ host, transport, via }, byVia[via]);
        }
        tracked.set({ host }, deps.liveness.size(host));
      }
      // The histogram is in ns; min() is huge until the first sample.
      const q = (ns: number) => (Number.isFinite(ns) ? ns / 1e9 : 0);
      loopDelay.set({ quantile: '0.5' }, q(loop.percentile(50)));
      loopDelay.set({ quantile: '0.99' }, q(loop.percentile(99)));
      loopDelay.set({ quantile: '1' }, q(loop.max));
      loop.reset();
    },
    stop() {
      unsubscribe();
      loop.disable();
    },
  };
}
