/**
 * The `resumable` liveness state (XEP-0198 §5 stream resumption, issue 17): suspend, resume with the
 * same generation and no offline/online pair, the resume deadline, kill and untrack while
 * resumable, and the per endpoint probe timeout (ack_timeout) of stream-managed sessions.
 */
import { describe, expect, it } from 'vitest';
import { eachActivityTime } from './rig.js';

eachActivityTime((rig) => {
  describe('resumable', () => {
    it('suspend: resumable until now + ms, no probes meanwhile; the deadline kills with resume_timeout and untracks', async () => {
      const r = rig();
      const h = r.track();
      await r.advance(10_000);
      r.clear();
      h.suspend(300_000);
      expect(h.state).toBe('resumable');
      expect(h.live).toBe(true);
      expect(h.nextDeadlineAt()).toBe(r.clock.now() + 300_000);
      expect(r.events).toEqual([expect.objectContaining({ type: 'state', state: 'resumable' })]);
      // Far past ping_interval: a resumable endpoint has no connection to probe.
      await r.advance(299_999);
      expect(r.adapter.probes).toHaveLength(0);
      expect(h.live).toBe(true);
      r.adapter.untrackOnKill = false; // the worker untracks even when the adapter does not
      await r.advance(1);
      expect(r.adapter.kills).toEqual([{ ref: h.ref, reason: 'resume_timeout' }]);
      expect(h.live).toBe(false);
      expect(r.events.at(-1)).toMatchObject({ type: 'offline', reason: 'resume_timeout' });
      expect(r.types()).not.toContain('killed');
    });

    it('resume: active again with the same generation, no offline/online pair, idle timer from the resume', async () => {
      const r = rig();
      const h = r.track();
      const gen = h.ref.generation;
      h.suspend(300_000);
      await r.advance(100_000);
      r.clear();
      h.resume();
      expect(h.state).toBe('active');
      expect(h.ref.generation).toBe(gen);
      expect(r.types()).toEqual(['state']);
      expect(h.nextDeadlineAt()).toBe(r.clock.now() + 60_000);
      await r.advance(60_000);
      expect(r.adapter.probes).toEqual([h.ref]);
      // The old resume deadline is gone.
      await r.advance(300_000);
      expect(r.adapter.kills.map((k) => k.reason)).not.toContain('resume_timeout');
    });

    it('touch and answers do not wake a resumable endpoint; resume from a probing one drops the probe', async () => {
      const r = rig();
      const h = r.track();
      await r.advance(60_000);
      expect(h.state).toBe('probing');
      h.suspend(5_000);
      h.touch();
      h.answered('pong');
      expect(h.state).toBe('resumable');
      await r.advance(40_000); // past the probe's ack deadline: no ping_timeout while resumable
      expect(r.types()).not.toContain('ping_timeout');
      expect(r.adapter.kills).toEqual([{ ref: h.ref, reason: 'resume_timeout' }]);
    });

    it('kill while resumable: adapter kill with the reason (kick ends a resumable session)', async () => {
      const r = rig();
      const h = r.track();
      h.suspend(300_000);
      h.kill('kicked');
      expect(r.adapter.kills).toEqual([{ ref: h.ref, reason: 'kicked' }]);
      expect(h.live).toBe(false);
      expect(r.events.at(-1)).toMatchObject({ type: 'offline', reason: 'kicked' });
    });

    it('ping-now on a resumable endpoint is unprobeable; a waiting ping-now resolves gone on suspend', async () => {
      const r = rig();
      const h = r.track();
      const waiting = h.probeNow();
      h.suspend(1_000);
      await expect(waiting).resolves.toEqual({ kind: 'gone' });
      await expect(h.probeNow()).resolves.toMatchObject({ kind: 'unprobeable' });
    });

    it('a host reconfiguration leaves the resume deadline alone; a takeover replaces a resumable endpoint', async () => {
      const r = rig();
      const h = r.track();
      h.suspend(10_000);
      r.registry.setHostConfig('example.org', { ping_interval: 1, ping_ack_timeout: 1 });
      expect(h.state).toBe('resumable');
      expect(h.nextDeadlineAt()).toBe(r.clock.now() + 10_000);
      const next = r.track();
      expect(h.live).toBe(false);
      expect(next.state).toBe('active');
      await r.advance(10_000);
      expect(r.adapter.kills.map((k) => k.reason)).not.toContain('resume_timeout');
    });

    it('ackMs: a probe of this endpoint waits its own timeout, not the host ping_ack_timeout', async () => {
      const r = rig({ ping_ack_timeout: 32 });
      const h = r.track(undefined, { onIdle: 'probe', ackMs: 60_000 });
      await r.advance(60_000);
      expect(h.state).toBe('probing');
      expect(h.nextDeadlineAt()).toBe(r.clock.now() + 60_000);
      await r.advance(59_999);
      expect(r.adapter.kills).toHaveLength(0);
      await r.advance(1);
      expect(r.adapter.kills).toEqual([{ ref: h.ref, reason: 'ping_timeout' }]);
    });
  });
});
