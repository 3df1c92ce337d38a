/**
 * /metrics for gateway mode (names vigil_gateway_*): events per gateway, kind, event and outcome
 * (applied, duplicate, stale), rejected webhook calls by why, snapshots, watcher losses, rows taken
 * down; gauges (up, online rows) are set at scrape time from each gateway's status.
 */
import type { Metrics } from '../metrics.js';
import type { Verdict } from './sessions.js';

export interface GatewayCounters {
  event(gateway: string, kind: string, event: string, outcome: Verdict): void;
  rejected(gateway: string, why: string): void;
  snapshot(gateway: string, outcome: 'ok' | 'failed'): void;
  lost(gateway: string, channel: 'watcher' | 'api', why: string): void;
  down(gateway: string, scope: 'gateway' | 'node', rows: number): void;
  /** Scrape-time gauges. */
  gauges(gateway: string, up: boolean, online: number): void;
}

export function gatewayCounters(m: Metrics): GatewayCounters {
  const events = m.counter('vigil_gateway_events_total', 'Client events from gateways, by outcome (applied | duplicate | stale)', [
    'gateway',
    'kind',
    'event',
    'outcome',
  ] as const);
  const rejected = m.counter('vigil_gateway_rejected_total', 'Webhook calls refused (why = auth | body | malformed | unknown_gateway)', ['gateway', 'why'] as const);
  const snapshots = m.counter('vigil_gateway_snapshots_total', "Snapshots read from a gateway's REST API", ['gateway', 'outcome'] as const);
  const lost = m.counter('vigil_gateway_lost_total', 'Times a gateway channel was lost, by why', ['gateway', 'channel', 'why'] as const);
  const down = m.counter('vigil_gateway_rows_down_total', 'Rows taken offline with gateway_down (scope = gateway | node)', ['gateway', 'scope'] as const);
  const up = m.gauge('vigil_gateway_up', '1 when the gateway is reachable (watcher or API), else 0', ['gateway'] as const);
  const online = m.gauge('vigil_gateway_endpoints', 'Clients online as the gateway reports them', ['gateway'] as const);
  return {
    event: (gateway, kind, event, outcome) => events.inc({ gateway, kind, event, outcome }),
    rejected: (gateway, why) => rejected.inc({ gateway, why }),
    snapshot: (gateway, outcome) => snapshots.inc({ gateway, outcome }),
    lost: (gateway, channel, why) => lost.inc({ gateway, channel, why }),
    down: (gateway, scope, rows) => down.inc({ gateway, scope }, rows),
    gauges(gateway, isUp, n) {
      up.set({ gateway }, isUp ? 1 : 0);
      online.set({ gateway }, n);
    },
  };
}
