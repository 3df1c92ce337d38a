import { describe, expect, it } from 'vitest';
import { eachActivityTime } from './rig.js';

eachActivityTime((rig) => {
  describe('generation safety', () => {
    it('each track gets a new increasing generation; takeover is silent and flagged', async () => {
      const r = rig();
      const old = r.track();
      r.clear();
      const cur = r.track();
      expect(cur.ref.generation).toBeGreaterThan(old.ref.generation);
      expect(r.types()).toEqual(['online']);
      expect(r.events[0]).toMatchObject({ type: 'online', takeover: true });
      expect(old.live).toBe(false);
      expect(r.registry.get(r.key())).toBe(cur);
      expect(r.registry.size()).toBe(1);
    });

    it('late touch / answered / untrack / kill / probeNow from the old handle do not affect the new one', async () => {
      const r = rig({ timeout_action: 'none' });
      const old = r.track();
      await r.advance(60_000); // old is probing
      const cur = r.track();
      r.clear();
      old.touch();
      old.answered('unsupported');
      old.untrack('socket_error');
      old.kill('kicked');
      old.setOptions({ onIdle: 'expire', idleMs: 1 });
      await expect(old.probeNow()).resolves.toEqual({ kind: 'gone' });
      expect(r.events).toEqual([]);
      expect(r.adapter.kills).toHaveLength(0);
      expect(cur.live).toBe(true);
      expect(cur.state).toBe('active');
      await r.advance(60_000);
      expect(cur.state).toBe('probing');
      expect(r.adapter.probes.at(-1)).toEqual(cur.ref);
    });

    it('a takeover resolves the old handle probeNow as gone', async () => {
      const r = rig();
      const old = r.track();
      const p = old.probeNow();
      r.track();
      await expect(p).resolves.toEqual({ kind: 'gone' });
    });

    it('untracked handle stays queryable and keeps its last state', async () => {
      const r = rig({ timeout_action: 'none' });
      const h = r.track();
      await r.advance(60_000);
      h.untrack('client_close');
      expect(h.live).toBe(false);
      expect(h.state).toBe('probing');
      expect(h.nextDeadlineAt()).toBeNull();
    });

    it('list() is in tracking order across transports; size per host', async () => {
      const r = rig();
      r.track('a');
      r.trackMqtt('m1', { onIdle: 'expire', idleMs: 0 });
      r.track('b');
      r.track('a'); // takeover moves a to the end
      expect([...r.registry.list(r.key().host)].map((h) => h.ref.id)).toEqual(['m1', 'b', 'a']);
      expect([...r.registry.list(r.key().host, 'xmpp')].map((h) => h.ref.id)).toEqual(['b', 'a']);
      expect(r.registry.size(r.key().host)).toBe(3);
      expect([...r.registry.list('nope')]).toEqual([]);
    });
  });
});
