/** The MQTT broker's Prometheus metrics (names: vigil_mqtt_<what>_total), built once per app. */
import type { Counter } from 'prom-client';
import type { FastCounter, Metrics } from '../metrics.js';

/** Per-packet counters, plain numbers (metrics.ts fastCounter), bumped by every connection. */
export interface PacketCounters {
  /** Packets other than PUBLISH received. */
  readonly packetsIn: FastCounter;
  /** PUBLISH packets received. */
  readonly messagesIn: FastCounter;
  /** PUBLISH packets sent. */
  readonly messagesOut: FastCounter;
  /** Outbound messages dropped. */
  readonly dropped: FastCounter;
}

/** What a connection counts besides packets (limits met, ACL refusals, failed logins). */
export type CountedEvent = 'auth_failure' | 'acl_denied' | 'limit' | 'max_subscriptions';

export interface BrokerMetrics {
  connects: Counter;
  keepaliveTimeouts: Counter;
  aclDenied: Counter;
  limits: Counter<'limit'>;
  /** Publishers paused by QoS 1/2 back-pressure, and full subscribers past backpressure_timeout. */
  publisherPauses: Counter;
  /** Deliveries to shared subscription groups, per host and group. */
  sharedDeliveries: Counter<'host' | 'group'>;
  backpressureTimeouts: Counter;
  /** The per-packet ones, plain numbers reported at scrape. */
  counters: PacketCounters;
  count(what: CountedEvent): void;
}

export function createBrokerMetrics(metrics: Metrics): BrokerMetrics {
  const counters: PacketCounters = {
    packetsIn: metrics.fastCounter('vigil_mqtt_packets_received_total', 'MQTT packets other than PUBLISH received from clients.'),
    messagesIn: metrics.fastCounter('vigil_mqtt_messages_received_total', 'PUBLISH packets received from clients.'),
    messagesOut: metrics.fastCounter('vigil_mqtt_messages_sent_total', 'PUBLISH packets sent to clients.'),
    dropped: metrics.fastCounter('vigil_mqtt_messages_dropped_total', 'Outbound messages dropped (client Maximum Packet Size, pending queue full).'),
  };
  const authFailures = metrics.counter('vigil_mqtt_auth_failures_total', 'CONNECTs refused for bad or missing credentials.');
  const aclDenied = metrics.counter('vigil_mqtt_acl_denied_total', 'Publishes and subscriptions denied by the ACL.');
  const limits = metrics.counter('vigil_mqtt_limit_hits_total', 'Connections or packets refused by a configured limit.', ['limit'] as const);
  return {
    connects: metrics.counter('vigil_mqtt_connects_total', 'CONNECTs accepted.'),
    keepaliveTimeouts: metrics.counter('vigil_mqtt_keepalive_timeouts_total', 'Clients closed for no packet within 1.5 x Keep Alive.'),
    aclDenied,
    limits,
    publisherPauses: metrics.counter('vigil_mqtt_publisher_pauses_total', 'Publishers paused because a subscriber queue they feed reached backpressure_high_water.'),
    backpressureTimeouts: metrics.counter('vigil_mqtt_backpressure_timeouts_total', 'Subscribers whose queue stayed above backpressure_high_water for backpressure_timeout: their publishers read on, the queue drop rules apply.'),
    sharedDeliveries: metrics.counter('vigil_mqtt_shared_deliveries_total', 'Messages delivered to a shared subscription group ($share/{name}/{filter}), one per message and group.', ['host', 'group'] as const),
    counters,
    count(what) {
      switch (what) {
        case 'auth_failure':
          return authFailures.inc();
        case 'acl_denied':
          return aclDenied.inc();
        case 'limit':
          return limits.inc({ limit: 'max_packet_size' });
        case 'max_subscriptions':
          return limits.inc({ limit: 'max_subscriptions' });
      }
    },
  };
}
