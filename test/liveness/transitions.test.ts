import { describe, expect, it } from 'vitest';
import { eachActivityTime } from './rig.js';

eachActivityTime((rig) => {
  describe('liveness transitions (XMPP, send_pings true)', () => {
    it('active -> probing at exactly ping_interval of inactivity', async () => {
      const r = rig();
      const h = r.track();
      expect(r.types()).toEqual(['online']);
      expect(h.state).toBe('active');
      await r.advance(59_999);
      expect(r.adapter.probes).toHaveLength(0);
      await r.advance(1);
      expect(r.adapter.probes).toEqual([h.ref]);
      expect(h.state).toBe('probing');
      expect(r.types()).toEqual(['online', 'state', 'probe_sent']);
    });

    it('any activity restarts the idle timer (lazy re-arm at lastActivity + interval)', async () => {
      const r = rig();
      const h = r.track();
      await r.advance(30_000);
      h.touch();
      await r.advance(59_999);
      expect(r.adapter.probes).toHaveLength(0);
      expect(h.nextDeadlineAt()).toBe(r.clock.now() + 1);
      await r.advance(1);
      expect(r.adapter.probes).toHaveLength(1);
    });

    it('pong: probing -> active, rtt recorded, next probe one interval later', async () => {
      const r = rig();
      const h = r.track();
      await r.advance(60_000);
      await r.advance(250);
      h.answered('pong');
      expect(h.state).toBe('active');
      expect(h.lastRttMs).toBe(250);
      const answered = r.events.find((e) => e.type === 'probe_answered');
      expect(answered).toMatchObject({ rttMs: 250, answer: 'pong' });
      await r.advance(59_999);
      expect(r.adapter.probes).toHaveLength(1);
      await r.advance(1);
      expect(r.adapter.probes).toHaveLength(2);
    });

    it('activity while probing counts as proof of life', async () => {
      const r = rig();
      const h = r.track();
      await r.advance(60_000);
      h.touch();
      expect(h.state).toBe('active');
      await r.advance(32_000);
      expect(r.adapter.kills).toHaveLength(0);
      await r.advance(28_000);
      expect(r.adapter.probes).toHaveLength(2);
    });

    it('timeout_action kill: killed event, adapter.kill(ref, ping_timeout), at interval + ack', async () => {
      const r = rig({ timeout_action: 'kill' });
      const h = r.track();
      await r.advance(60_000 + 31_999);
      expect(r.adapter.kills).toHaveLength(0);
      await r.advance(1);
      expect(r.adapter.kills).toEqual([{ ref: h.ref, reason: 'ping_timeout' }]);
      expect(h.live).toBe(false);
      expect(h.state).toBe('unresponsive');
      expect(r.types()).toEqual(['online', 'state', 'probe_sent', 'state', 'killed', 'offline']);
      expect(r.events.at(-1)).toMatchObject({ type: 'offline', reason: 'ping_timeout' });
      expect(r.scheduler.pending).toBe(0);
    });

    it('timeout_action none: ping_timeout event, connection kept, no probes until activity', async () => {
      const r = rig({ timeout_action: 'none' });
      const h = r.track();
      await r.advance(92_000);
      expect(r.adapter.kills).toHaveLength(0);
      expect(h.state).toBe('unresponsive');
      expect(h.live).toBe(true);
      expect(r.events.at(-1)).toMatchObject({ type: 'ping_timeout', reason: 'ping_timeout' });
      expect(h.nextDeadlineAt()).toBeNull();
      await r.advance(600_000);
      expect(r.adapter.probes).toHaveLength(1);
      h.touch();
      expect(h.state).toBe('active');
      await r.advance(60_000);
      expect(r.adapter.probes).toHaveLength(2);
    });

    it('late pong after a none-timeout is still proof of life', async () => {
      const r = rig({ timeout_action: 'none' });
      const h = r.track();
      await r.advance(95_000);
      h.answered('pong');
      expect(h.state).toBe('active');
      expect(h.lastRttMs).toBe(35_000);
    });

    it('service-unavailable -> paused (no probing) -> activity -> active', async () => {
      const r = rig();
      const h = r.track();
      await r.advance(60_000);
      h.answered('unsupported');
      expect(h.state).toBe('paused');
      expect(r.events.find((e) => e.type === 'probe_answered')).toMatchObject({ answer: 'unsupported' });
      await r.advance(3_600_000);
      expect(r.adapter.probes).toHaveLength(1);
      expect(r.adapter.kills).toHaveLength(0);
      h.touch();
      expect(h.state).toBe('active');
      await r.advance(60_000);
      expect(r.adapter.probes).toHaveLength(2);
      const states = r.events.flatMap((e) => (e.type === 'state' ? [e.state] : []));
      expect(states).toEqual(['probing', 'paused', 'active', 'probing']);
    });

    it('send_pings false: endpoint tracked, never probed', async () => {
      const r = rig({ send_pings: false });
      const h = r.track();
      await r.advance(10 * 3_600_000);
      expect(r.adapter.probes).toHaveLength(0);
      expect(h.nextDeadlineAt()).toBeNull();
      expect(r.registry.size()).toBe(1);
      expect(r.scheduler.pending).toBe(0);
    });

    it('untrack: offline with the reason, idempotent, timers gone', async () => {
      const r = rig();
      const h = r.track();
      h.untrack('client_close');
      h.untrack('socket_error');
      expect(r.types()).toEqual(['online', 'offline']);
      expect(r.events[1]).toMatchObject({ reason: 'client_close' });
      expect(r.registry.get(r.key())).toBeUndefined();
      expect(r.scheduler.pending).toBe(0);
    });

    it('handle.kill(kicked) asks the adapter, only while live', async () => {
      const r = rig();
      const h = r.track();
      h.kill('kicked');
      expect(r.adapter.kills).toEqual([{ ref: h.ref, reason: 'kicked' }]);
      h.kill('kicked');
      expect(r.adapter.kills).toHaveLength(1);
    });

    it('wall-clock and monotonic views of activity', async () => {
      const r = rig();
      const h = r.track();
      const t0 = r.clock.now();
      await r.advance(5_000);
      h.touch();
      expect(h.lastActivityAt()).toBe(t0 + 5_000);
      expect(h.lastActivityMono).toBe(r.clock.monotonic());
      expect(h.nextDeadlineAt()).toBe(t0 + 65_000);
    });
  });

  describe('liveness expire mode (MQTT keepalive)', () => {
    it('closes at 1.5 x keepalive regardless of send_pings, reason keepalive_timeout', async () => {
      const r = rig({ send_pings: false });
      const h = r.trackMqtt('sensor-1', { onIdle: 'expire', idleMs: 3_000 });
      await r.advance(2_000);
      h.touch();
      await r.advance(2_999);
      expect(r.adapter.kills).toHaveLength(0);
      await r.advance(1);
      expect(r.adapter.kills).toEqual([{ ref: h.ref, reason: 'keepalive_timeout' }]);
      expect(r.adapter.probes).toHaveLength(0);
      expect(r.types()).toEqual(['online', 'state', 'killed', 'offline']);
    });

    it('timeout_action none: ping_timeout with reason keepalive_timeout', async () => {
      const r = rig({ timeout_action: 'none' });
      const h = r.trackMqtt('sensor-1', { onIdle: 'expire', idleMs: 3_000 });
      await r.advance(3_000);
      expect(h.state).toBe('unresponsive');
      expect(r.events.at(-1)).toMatchObject({ type: 'ping_timeout', reason: 'keepalive_timeout' });
      h.touch();
      await r.advance(3_000);
      expect(r.events.filter((e) => e.type === 'ping_timeout')).toHaveLength(2);
    });

    it('keepalive 0 never times out; setOptions renegotiates', async () => {
      const r = rig();
      const h = r.trackMqtt('sensor-1', { onIdle: 'expire', idleMs: 0 });
      await r.advance(86_400_000);
      expect(h.live).toBe(true);
      expect(r.scheduler.pending).toBe(0);
      h.touch(); // the packet that renegotiated; setOptions alone is not activity
      h.setOptions({ onIdle: 'expire', idleMs: 15_000 });
      await r.advance(14_999);
      expect(h.live).toBe(true);
      await r.advance(1);
      expect(h.live).toBe(false);
    });

    it('onIdle probe for MQTT (mqtt_probe=pingreq) uses ping_interval and probes', async () => {
      const r = rig({ mqtt_probe: 'pingreq', ping_interval: 10, ping_ack_timeout: 5 });
      const h = r.trackMqtt('sensor-2', { onIdle: 'probe' });
      await r.advance(10_000);
      expect(r.adapter.probes).toEqual([h.ref]);
      await r.advance(5_000);
      expect(r.adapter.kills).toEqual([{ ref: h.ref, reason: 'ping_timeout' }]);
    });
  });

  describe('deadline precision', () => {
    it('fractional clock: a keepalive never closes before 1.5 x keepalive of real silence', async () => {
      const r = rig();
      r.clock.set(r.clock.monotonic() + 0.9); // activity at a fractional ms
      const start = r.clock.monotonic();
      const h = r.trackMqtt('c1', { onIdle: 'expire', idleMs: 3_000 });
      await r.advance(2_999.5);
      expect(h.live).toBe(true);
      await r.advance(1);
      expect(h.live).toBe(false);
      expect(r.clock.monotonic() - start).toBeGreaterThanOrEqual(3_000);
    });
  });

  describe('robustness', () => {
    it('a throwing listener or adapter does not stop the other deadlines (error rethrown later)', async () => {
      const r = rig({ timeout_action: 'none' });
      const errors: unknown[] = [];
      const onError = (e: unknown) => errors.push(e);
      process.on('uncaughtException', onError);
      try {
        r.registry.subscribe((e) => {
          if (e.type === 'probe_sent') throw new Error('listener boom');
        });
        r.adapter.probe = () => {
          throw new Error('adapter boom');
        };
        const hs = [r.track('a'), r.track('b'), r.track('c')];
        await r.advance(60_000);
        expect(hs.map((h) => h.state)).toEqual(['probing', 'probing', 'probing']);
        await r.advance(32_000);
        expect(hs.map((h) => h.state)).toEqual(['unresponsive', 'unresponsive', 'unresponsive']);
        await new Promise((resolve) => setImmediate(resolve));
        expect(errors.map((e) => (e as Error).message).sort()).toEqual([
          ...Array<string>(3).fill('adapter boom'),
          ...Array<string>(3).fill('listener boom'),
        ]);
      } finally {
        process.off('uncaughtException', onError);
      }
    });
  });
});
