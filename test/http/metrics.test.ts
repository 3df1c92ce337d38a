import { afterEach, describe, expect, it } from 'vitest';
import { HOST, type Rig, rig } from './rig.js';

let r: Rig;
afterEach(async () => r?.close());

const scrape = async () => {
  const res = await r.app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain/);
  return res.body;
};

describe('GET /metrics', () => {
  it('exposes connections per transport and host, pings, timeouts, kills, rtt and event loop delay', async () => {
    r = rig();
    const a = r.connect('xmpp', 'alice@example.org/a');
    r.connect('xmpp', 'bob@example.org/b');
    r.connect('mqtt', 'm1', { onIdle: 'expire', idleMs: 10_000 });
    r.connect('mqtt', 'browser', { onIdle: 'expire', idleMs: 1_000_000 }, HOST, 'wss');

    let text = await scrape();
    expect(text).toContain(`vigil_connections{host="${HOST}",transport="xmpp",via="tcp"} 2`);
    expect(text).toContain(`vigil_connections{host="${HOST}",transport="mqtt",via="tcp"} 1`);
    expect(text).toContain(`vigil_connections{host="${HOST}",transport="mqtt",via="wss"} 1`);
    expect(text).toContain(`vigil_connections{host="${HOST}",transport="xmpp",via="ws"} 0`);
    expect(text).toContain(`vigil_tracked_endpoints{host="${HOST}"} 4`);
    expect(text).toMatch(/vigil_event_loop_delay_seconds\{quantile="0.99"\} [0-9.e-]+/);

    r.scheduler.advance(10_000); // m1 keepalive expires -> killed
    r.scheduler.advance(50_000); // xmpp idle -> probes sent
    r.scheduler.advance(25);
    a.answered('pong');
    r.scheduler.advance(32_000); // bob unanswered -> ping timeout -> kill

    text = await scrape();
    expect(text).toContain(`vigil_pings_sent_total{host="${HOST}",transport="xmpp"} 2`);
    expect(text).toContain(`vigil_pings_answered_total{host="${HOST}",transport="xmpp",answer="pong"} 1`);
    expect(text).toContain(`vigil_ping_timeouts_total{host="${HOST}",transport="xmpp"} 1`);
    expect(text).toContain(`vigil_keepalive_timeouts_total{host="${HOST}",transport="mqtt"} 1`);
    expect(text).toContain(`vigil_kills_total{host="${HOST}",transport="xmpp",reason="ping_timeout"} 1`);
    expect(text).toContain(`vigil_kills_total{host="${HOST}",transport="mqtt",reason="keepalive_timeout"} 1`);
    expect(text).toContain(`vigil_ping_rtt_seconds_bucket{le="0.025",host="${HOST}",transport="xmpp"} 1`);
    expect(text).toContain(`vigil_ping_rtt_seconds_count{host="${HOST}",transport="xmpp"} 1`);
    expect(text).toContain(`vigil_disconnects_total{host="${HOST}",transport="mqtt",reason="keepalive_timeout"} 1`);
    expect(text).toContain(`vigil_connections{host="${HOST}",transport="xmpp",via="tcp"} 1`);
    expect(text).toContain(`vigil_connections{host="${HOST}",transport="mqtt",via="tcp"} 0`);
    expect(text).toContain(`vigil_connections{host="${HOST}",transport="mqtt",via="wss"} 1`);
  });

  it('counts a ping timeout once when timeout_action is none (no kill)', async () => {
    r = rig();
    r.liveness.setHostConfig(HOST, { timeout_action: 'none' });
    r.connect('xmpp', 'carol@example.org/c');
    r.scheduler.advance(60_000 + 32_000);
    const text = await scrape();
    expect(text).toContain(`vigil_ping_timeouts_total{host="${HOST}",transport="xmpp"} 1`);
    expect(text).not.toMatch(/^vigil_kills_total\{/m);
  });

  it('stops listening to liveness events when the app closes', async () => {
    r = rig();
    await r.app.close();
    r.connect('mqtt', 'late', { onIdle: 'expire', idleMs: 1_000 });
    const text = await r.metrics.registry.metrics();
    expect(text).not.toMatch(/vigil_connections_opened_total\{[^}]*\} 1/);
  });
});
