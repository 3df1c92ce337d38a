import { describe, expect, it } from 'vitest';
import { HOST, eachActivityTime } from './rig.js';

eachActivityTime((rig) => {
  describe('setHostConfig re-arms live timers', () => {
    it('lowering ping_interval probes at lastActivity + new interval, or now when already past', async () => {
      const r = rig({ ping_interval: 60 });
      const a = r.track('a@example.org/r');
      await r.advance(10_000);
      const b = r.track('b@example.org/r');
      await r.advance(10_000); // a idle 20 s, b idle 10 s
      r.registry.setHostConfig(HOST, { ping_interval: 15 });
      r.scheduler.runDue();
      expect(r.adapter.probes.map((p) => p.id)).toEqual(['a@example.org/r']); // past: now
      await r.advance(4_999);
      expect(r.adapter.probes).toHaveLength(1);
      await r.advance(1); // b: 10 s + 15 s
      expect(r.adapter.probes.map((p) => p.id)).toEqual(['a@example.org/r', 'b@example.org/r']);
      expect(a.state).toBe('probing');
      expect(b.state).toBe('probing');
    });

    it('raising ping_interval postpones probes; nothing is dropped; host_config emitted', async () => {
      const r = rig({ ping_interval: 60 });
      const h = r.track();
      await r.advance(50_000);
      const cfg = r.registry.setHostConfig(HOST, { ping_interval: 120 });
      expect(cfg.ping_interval).toBe(120);
      expect(r.registry.hostConfig(HOST)?.ping_interval).toBe(120);
      expect(r.events.at(-1)).toMatchObject({ type: 'host_config', host: HOST, config: cfg });
      await r.advance(69_999);
      expect(r.adapter.probes).toHaveLength(0);
      await r.advance(1);
      expect(r.adapter.probes).toEqual([h.ref]);
      expect(r.registry.size(HOST)).toBe(1);
    });

    it('switching send_pings off stops probing (also mid-probe) and on re-arms', async () => {
      const r = rig();
      const h = r.track();
      await r.advance(60_000);
      expect(h.state).toBe('probing');
      r.registry.setHostConfig(HOST, { send_pings: false });
      expect(h.state).toBe('active');
      await r.advance(3_600_000);
      expect(r.adapter.kills).toHaveLength(0);
      expect(r.adapter.probes).toHaveLength(1);
      expect(r.scheduler.pending).toBe(0);
      h.touch();
      r.registry.setHostConfig(HOST, { send_pings: true });
      await r.advance(60_000);
      expect(r.adapter.probes).toHaveLength(2);
    });

    it('send_pings off does not stop expire-mode (keepalive) endpoints', async () => {
      const r = rig();
      const h = r.trackMqtt('c1', { onIdle: 'expire', idleMs: 3_000 });
      r.registry.setHostConfig(HOST, { send_pings: false });
      await r.advance(3_000);
      expect(h.live).toBe(false);
      expect(r.adapter.kills[0]?.reason).toBe('keepalive_timeout');
    });

    it('switching timeout_action while probing applies at the deadline', async () => {
      const r = rig({ timeout_action: 'kill' });
      const h = r.track();
      await r.advance(60_000);
      r.registry.setHostConfig(HOST, { timeout_action: 'none' });
      await r.advance(32_000);
      expect(r.adapter.kills).toHaveLength(0);
      expect(h.state).toBe('unresponsive');
      expect(h.live).toBe(true);

      const r2 = rig({ timeout_action: 'none' });
      const h2 = r2.track();
      await r2.advance(60_000);
      r2.registry.setHostConfig(HOST, { timeout_action: 'kill' });
      await r2.advance(32_000);
      expect(r2.adapter.kills).toEqual([{ ref: h2.ref, reason: 'ping_timeout' }]);
    });

    it('changing ping_ack_timeout while probing moves the ack deadline', async () => {
      const r = rig({ ping_ack_timeout: 32 });
      r.track();
      await r.advance(60_000 + 10_000);
      r.registry.setHostConfig(HOST, { ping_ack_timeout: 12 });
      await r.advance(1_999);
      expect(r.adapter.kills).toHaveLength(0);
      await r.advance(1);
      expect(r.adapter.kills).toHaveLength(1);
    });

    it('an unknown host gets mod_ping defaults on first use', async () => {
      const r = rig();
      r.registry.track({ host: 'other.org', transport: 'xmpp', id: 'x@other.org/r' }, r.adapter, {
        onIdle: 'probe',
      });
      expect(r.registry.hostConfig('other.org')).toMatchObject({ ping_interval: 60, ping_ack_timeout: 32 });
      expect(r.registry.hosts().sort()).toEqual([HOST, 'other.org'].sort());
      const cfg = r.registry.setHostConfig('third.org', { ping_interval: 5 });
      expect(cfg.ping_interval).toBe(5);
    });
  });
});
