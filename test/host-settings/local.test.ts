/**
 * The single-node host settings table (file + overrides in the embedded store), through the shared
 * contract, plus what only it does: the one validation of a change, and stored overrides that no
 * longer fit ignored with a warning instead of stopping startup.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigValueError, validate } from '../../src/config/dsl.js';
import { rootSchema } from '../../src/config/schema/root.js';
import { createLocalHostSettings, parseHostSettingsPatch } from '../../src/host-settings.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { A, B, FILE_HOSTS, hostSettingsContract } from './contract.js';

const config = validate(rootSchema, { hosts: FILE_HOSTS });

function logged() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, logger: pino({ level: 'warn' }, sink) };
}

hostSettingsContract('local (file + embedded store)', () => {
  const store = createMemoryStore();
  return { open: () => createLocalHostSettings({ config, overrides: store.hostConfig, logger: pino({ level: 'silent' }) }) };
});

describe('parseHostSettingsPatch', () => {
  it('checks only the keys present, each by its config option', () => {
    expect(parseHostSettingsPatch({ ping_interval: 5, mqtt_probe: 'pingreq' })).toEqual({ ping_interval: 5, mqtt_probe: 'pingreq' });
    expect(parseHostSettingsPatch({})).toEqual({});
  });

  it.each([
    [{ ping_interval: 0 }, 'ping_interval', 'an integer from 1 to 86400 (s)'],
    [{ ping_interval: '5' }, 'ping_interval', 'an integer from 1 to 86400 (s)'],
    [{ timeout_action: 'explode' }, 'timeout_action', 'one of none | kill'],
    [{ ping: { ping_interval: 5 } }, 'ping', 'no such option'],
  ])('refuses %j naming %s', (raw, key, expected) => {
    let err: unknown;
    try {
      parseHostSettingsPatch(raw);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigValueError);
    expect((err as ConfigValueError).path).toEqual([key]);
    expect((err as ConfigValueError).expected).toContain(expected);
  });
});

describe('stored overrides at startup', () => {
  it('ignores, with a warning, an override that no longer validates and one for a host not in the file', () => {
    const store = createMemoryStore();
    store.hostConfig.put(A, { ping_interval: 0 });
    store.hostConfig.put(B, { ping_interval: 9 });
    store.hostConfig.put('gone.example', { ping_interval: 5 });
    const { lines, logger } = logged();
    const t = createLocalHostSettings({ config, overrides: store.hostConfig, logger });
    expect(t.get(A)?.ping_interval).toBe(30);
    expect(t.persisted(A)).toBeNull();
    expect(t.get(B)?.ping_interval).toBe(9);
    expect(t.get('gone.example')).toBeUndefined();
    expect(lines.map((l) => [l.event, l.host])).toEqual([
      ['host_config_override_ignored', A],
      ['host_config_override_ignored', 'gone.example'],
    ]);
  });
});
