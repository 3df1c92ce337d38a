/**
 * End to end against Debian's mosquitto 2.0 (no per-client events: the watcher watches the broker
 * itself). Frozen with SIGSTOP, the broker still holds the TCP connection but answers no PINGREQ:
 * the watcher reports ping_timeout and the gateway goes unreachable, then down after
 * gateway_timeout; thawed, it is up again. Killed, it is down again after gateway_timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { until } from '../support/until.js';
import { type Running, startMosquitto, startVigil } from './servers.js';

let broker: Running;
let app: App;

beforeAll(async () => {
  broker = await startMosquitto();
  app = await startVigil(
    [
      '  mosq1:',
      '    kind: mosquitto',
      '    gateway_timeout: 1',
      `    mqtt: {url: "mqtt://127.0.0.1:${broker.port}", client_id: vigil-e2e, ping_interval: 1, ping_ack_timeout: 1, reconnect_min_ms: 100, reconnect_max_ms: 300}`,
    ].join('\n'),
  );
});

afterAll(async () => {
  broker?.signal('SIGCONT');
  await app?.stop();
  await broker?.stop();
});

const gw = () => app.gateways.get('mosq1')!.status();

describe('Mosquitto 2.0 gateway (the watcher checks the broker)', () => {
  it('is up, answers PINGREQ with a round-trip time, and beats on $SYS/broker/uptime', async () => {
    await until(() => gw().state === 'up', { capMs: 5_000, everyMs: 5 });
    await until(() => gw().channels.watcher?.rtt_ms !== null, { capMs: 5_000, everyMs: 5 });
    expect(gw().channels.watcher).toMatchObject({ state: 'up', refused: [] });
    expect(gw().nodes).toEqual(['broker']);
    const listed = (await app.http.inject({ method: 'GET', url: '/v1/gateways', headers: { authorization: 'Bearer test-token-0123456789' } })).json();
    expect(listed.items[0]).toMatchObject({ name: 'mosq1', kind: 'mosquitto', state: 'up', online: 0 });
  });

  it('goes unreachable on an unanswered PINGREQ (frozen broker), down after gateway_timeout, up once thawed', async () => {
    const t0 = Date.now();
    broker.signal('SIGSTOP');
    await until(() => gw().state === 'unreachable', { capMs: 5_000, everyMs: 5 });
    expect(gw().channels.watcher?.last_lost).toBe('ping_timeout');
    // ping_interval (1 s) of silence at most, plus ping_ack_timeout (1 s).
    expect(Date.now() - t0).toBeLessThan(2_600);
    await until(() => gw().state === 'down', { capMs: 3_000, everyMs: 5 });
    broker.signal('SIGCONT');
    await until(() => gw().state === 'up', { capMs: 5_000, everyMs: 5 });
  });

  it('is down gateway_timeout after the broker is killed', async () => {
    broker.signal('SIGKILL');
    await until(() => gw().state === 'unreachable', { capMs: 3_000, everyMs: 5 });
    expect(gw().channels.watcher?.last_lost).toBe('closed');
    await until(() => gw().state === 'down', { capMs: 3_000, everyMs: 5 });
    const metrics = (await app.http.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/vigil_gateway_up\{gateway="mosq1"\} 0/);
    expect(metrics).toMatch(/vigil_gateway_lost_total\{gateway="mosq1",channel="watcher",why="ping_timeout"\} 1/);
  });
});
