import { describe, expect, it } from 'vitest';
import { eachActivityTime } from './rig.js';

eachActivityTime((rig) => {
  describe('probeNow (REST ping-now)', () => {
    it('answered: resolves with the rtt of the next answer', async () => {
      const r = rig();
      const h = r.track();
      const p = h.probeNow();
      expect(r.adapter.probes).toEqual([h.ref]);
      expect(r.types()).toEqual(['online', 'probe_sent']);
      await r.advance(42);
      h.answered('pong');
      await expect(p).resolves.toEqual({ kind: 'answered', rttMs: 42 });
      expect(h.lastRttMs).toBe(42);
      expect(r.scheduler.pending).toBe(1); // only the worker's idle deadline
    });

    it('timeout after ping_ack_timeout, without applying timeout_action', async () => {
      const r = rig({ timeout_action: 'kill', ping_ack_timeout: 5 });
      const h = r.track();
      const p = h.probeNow();
      await r.advance(5_000);
      await expect(p).resolves.toEqual({ kind: 'timeout' });
      expect(r.adapter.kills).toHaveLength(0);
      expect(h.state).toBe('active');
    });

    it('unsupported answer resolves unsupported and pauses probing', async () => {
      const r = rig();
      const h = r.track();
      const p = h.probeNow();
      await r.advance(7);
      h.answered('unsupported');
      await expect(p).resolves.toEqual({ kind: 'unsupported', rttMs: 7 });
      expect(h.state).toBe('paused');
    });

    it('gone when untracked meanwhile or already', async () => {
      const r = rig();
      const h = r.track();
      const p = h.probeNow();
      h.untrack('client_close');
      await expect(p).resolves.toEqual({ kind: 'gone' });
      await expect(h.probeNow()).resolves.toEqual({ kind: 'gone' });
      expect(r.scheduler.pending).toBe(0);
    });

    it('unprobeable when the adapter says why', async () => {
      const r = rig();
      const h = r.trackMqtt('c1', { onIdle: 'expire', idleMs: 90_000 });
      r.adapter.unprobeable = 'mqtt_probe is keepalive on this host';
      await expect(h.probeNow()).resolves.toEqual({
        kind: 'unprobeable',
        why: 'mqtt_probe is keepalive on this host',
      });
      expect(r.adapter.probes).toHaveLength(0);
    });
  });
});
