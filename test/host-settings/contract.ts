/**
 * The contract every host settings table keeps (src/host-settings.ts HostSettingsTable): the
 * single-node table runs it here; the cluster's Redis-backed table (issue 15) runs the same suite.
 * `open()` opens a table on the backing a suite started with; opening a second one is a restart.
 */
import { describe, expect, it } from 'vitest';
import { VigilError } from '../../src/errors.js';
import type { HostSettings, HostSettingsTable } from '../../src/host-settings.js';

export const A = 'a.example';
export const B = 'b.example';

/** The file both hosts come from: A lowers ping_interval, B keeps mod_ping's defaults. */
export const FILE_HOSTS = { [B]: {}, [A]: { ping: { ping_interval: 30 }, mqtt_probe: 'pingreq' } };

export const DEFAULTS: HostSettings = {
  send_pings: true,
  ping_interval: 60,
  ping_ack_timeout: 32,
  timeout_action: 'kill',
  mqtt_probe: 'keepalive',
  // XEP-0198 / XEP-0352 (ejabberd's defaults)
  stream_management: true,
  resume_timeout: 300,
  max_resume_timeout: 0,
  ack_timeout: 60,
  max_ack_queue: 5000,
  resend_on_timeout: 'false',
  csi_inactive_ping_interval: 0,
  queue_presence: true,
};

export function hostSettingsContract(name: string, fresh: () => { open(): HostSettingsTable }): void {
  describe(`host settings table contract: ${name}`, () => {
    it('starts from the file: every configured host, sorted, with defaults filled in', () => {
      const t = fresh().open();
      expect(Object.keys(t.all())).toEqual([A, B]);
      expect(t.get(A)).toEqual({ ...DEFAULTS, ping_interval: 30, mqtt_probe: 'pingreq' });
      expect(t.get(B)).toEqual(DEFAULTS);
      expect(t.get('nope.example')).toBeUndefined();
      expect(t.persisted(A)).toBeNull();
    });

    it('a change merges over the settings in force and every listener hears it before it resolves', async () => {
      const t = fresh().open();
      const heard: [string, HostSettings][] = [];
      t.subscribe((host, s) => heard.push([host, s]));
      const next = await t.change(A, { timeout_action: 'none' }, { persist: false });
      expect(next).toEqual({ ...DEFAULTS, ping_interval: 30, mqtt_probe: 'pingreq', timeout_action: 'none' });
      expect(heard).toEqual([[A, next]]);
      expect(t.get(A)).toEqual(next);
      expect(t.all()[A]).toEqual(next);
      expect(t.get(B)).toEqual(DEFAULTS);
    });

    it('a change that is not persisted is gone after a restart', async () => {
      const backing = fresh();
      await backing.open().change(A, { ping_interval: 5 }, { persist: false });
      const again = backing.open();
      expect(again.get(A)?.ping_interval).toBe(30);
      expect(again.persisted(A)).toBeNull();
    });

    it('persisted changes merge over earlier ones and are replayed over the file after a restart', async () => {
      const backing = fresh();
      const t = backing.open();
      await t.change(A, { ping_interval: 5 }, { persist: true });
      await t.change(A, { timeout_action: 'none' }, { persist: true });
      expect(t.persisted(A)).toEqual({ ping_interval: 5, timeout_action: 'none' });
      const again = backing.open();
      expect(again.get(A)).toEqual({ ...DEFAULTS, ping_interval: 5, timeout_action: 'none', mqtt_probe: 'pingreq' });
      expect(again.persisted(A)).toEqual({ ping_interval: 5, timeout_action: 'none' });
      expect(again.persisted(B)).toBeNull();
    });

    it('an unknown host cannot be changed: VIGIL_ERR_UNKNOWN_HOST, no listener called', async () => {
      const t = fresh().open();
      let heard = 0;
      t.subscribe(() => heard++);
      const err = await t.change('nope.example', { ping_interval: 5 }, { persist: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VigilError);
      expect((err as VigilError).code).toBe('VIGIL_ERR_UNKNOWN_HOST');
      expect(heard).toBe(0);
      expect(t.get('nope.example')).toBeUndefined();
    });

    it('unsubscribe stops a listener', async () => {
      const t = fresh().open();
      let heard = 0;
      const off = t.subscribe(() => heard++);
      await t.change(B, { send_pings: false }, { persist: false });
      off();
      await t.change(B, { send_pings: true }, { persist: false });
      expect(heard).toBe(1);
    });
  });
}
