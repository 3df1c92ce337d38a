/** The XMPP adapter's Prometheus series (vigil_xmpp_*), created once per service. */
import type { Counter, Gauge } from 'prom-client';
import type { FastCounter, Metrics } from '../metrics.js';

export interface XmppCounters {
  connections: Gauge;
  connectionsTotal: Counter;
  /** Per stanza: plain numbers, handed to prom-client at scrape. */
  stanzasIn: FastCounter;
  stanzasOut: FastCounter;
  /** Ping answers recognised without the XML parser (fast-pong.ts). */
  fastPongs: FastCounter;
  authFailures: Counter<'condition'>;
  streamErrors: Counter<'condition'>;
  limitHits: Counter<'limit'>;
  /** XEP-0198: sessions waiting for a resume (their connection dropped). */
  resumable: Gauge;
  /** XEP-0198 <resume/> outcomes: resumed, failed (unknown or timed-out SM-ID). */
  resumptions: Counter<'result'>;
}

export function xmppCounters(m: Metrics): XmppCounters {
  return {
    connections: m.gauge('vigil_xmpp_connections', 'Open XMPP c2s connections'),
    connectionsTotal: m.counter('vigil_xmpp_connections_total', 'Accepted XMPP c2s connections'),
    stanzasIn: m.fastCounter('vigil_xmpp_stanzas_in_total', 'Stanzas received from bound XMPP clients'),
    stanzasOut: m.fastCounter('vigil_xmpp_stanzas_out_total', 'Stanzas sent to bound XMPP clients'),
    fastPongs: m.fastCounter('vigil_xmpp_fast_pongs_total', 'Answers to server pings recognised without the XML parser'),
    authFailures: m.counter('vigil_xmpp_auth_failures_total', 'Failed SASL attempts by condition', ['condition']),
    streamErrors: m.counter('vigil_xmpp_stream_errors_total', 'Stream errors sent by condition', ['condition']),
    limitHits: m.counter('vigil_xmpp_limit_hits_total', 'Connections refused or closed by a limit', ['limit']),
    resumable: m.gauge('vigil_xmpp_resumable_sessions', 'XMPP sessions whose connection dropped, kept for a stream resumption (XEP-0198)'),
    resumptions: m.counter('vigil_xmpp_resumptions_total', 'XEP-0198 stream resumption requests by result (resumed, failed)', ['result']),
  };
}
