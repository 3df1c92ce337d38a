import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, EMBEDDED_CONFIG, loadConfig, parseConfig } from '../../src/config/load.js';
import { renderReference } from '../../src/config/reference.js';

const F = '/etc/vigil/test.yaml';

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config loading', () => {
  it('loads the embedded defaults with the documented shape', () => {
    const { config, file } = loadConfig({ env: {} });
    expect(file).toBe(EMBEDDED_CONFIG);
    expect(config.listeners).toMatchObject({
      xmpp: { host: '0.0.0.0', port: 5222 },
      mqtt: { host: '0.0.0.0', port: 1883 },
      http: { host: '127.0.0.1', port: 8080 },
    });
    expect(config.hosts.localhost).toMatchObject({
      ping: { send_pings: true, ping_interval: 60, ping_ack_timeout: 32, timeout_action: 'kill' },
      mqtt_probe: 'keepalive',
    });
  });

  it('fills defaults for a partial host', () => {
    const { config } = parseConfig('hosts:\n  example.org:\n    ping: { ping_interval: 5 }\n', F);
    expect(config.hosts['example.org']?.ping).toEqual({
      send_pings: true,
      ping_interval: 5,
      ping_ack_timeout: 32,
      timeout_action: 'kill',
    });
  });

  it('stream management options under xmpp: ejabberd defaults; resend_on_timeout as false | true | if_offline (YAML booleans too)', () => {
    const def = parseConfig('hosts:\n  example.org: {}\n', F).config.hosts['example.org']?.xmpp;
    expect(def).toMatchObject({ stream_management: true, resume_timeout: 300, ack_timeout: 60, max_ack_queue: 5000, resend_on_timeout: 'false', queue_presence: true });
    const t = parseConfig('hosts:\n  example.org:\n    xmpp: { resend_on_timeout: true, resume_timeout: 3600 }\n', F).config.hosts['example.org']?.xmpp;
    expect(t).toMatchObject({ resend_on_timeout: 'true', resume_timeout: 3600 });
    const o = parseConfig('hosts:\n  example.org:\n    xmpp: { resend_on_timeout: if_offline }\n', F).config.hosts['example.org']?.xmpp;
    expect(o?.resend_on_timeout).toBe('if_offline');
    expect(errorOf(() => parseConfig('hosts:\n  example.org:\n    xmpp: { resend_on_timeout: 1 }\n', F)).message).toContain(
      'hosts.example.org.xmpp.resend_on_timeout: got 1, expected one of false | true | if_offline',
    );
  });

  it('names the file, key path, value and expectation for a bad value', () => {
    const err = errorOf(() => parseConfig('hosts:\n  localhost:\n    ping:\n      timeout_action: restart\n', F));
    expect(err.message).toBe(`${F}: hosts.localhost.ping.timeout_action: got "restart", expected one of none | kill`);
    expect(err.keyPath).toBe('hosts.localhost.ping.timeout_action');
    expect(err.code).toBe('VIGIL_ERR_CONFIG_INVALID');
  });

  it('rejects out-of-range numbers and wrong types', () => {
    expect(errorOf(() => parseConfig('listeners:\n  http: { port: 70000 }\n', F)).message).toContain(
      'listeners.http.port: got 70000, expected an integer from 0 to 65535',
    );
    expect(errorOf(() => parseConfig('hosts: { localhost: { ping: { send_pings: "yes" } } }', F)).message).toContain(
      'hosts.localhost.ping.send_pings: got "yes", expected true or false',
    );
  });

  it('rejects unknown keys so typos cannot fall back to defaults', () => {
    const err = errorOf(() => parseConfig('hosts:\n  localhost:\n    ping:\n      ping_intervall: 5\n', F));
    expect(err.message).toContain('hosts.localhost.ping.ping_intervall: got 5, expected no such option');
  });

  it('reports YAML syntax errors with the line', () => {
    const err = errorOf(() => parseConfig('hosts:\n  localhost: [\n', F));
    expect(err.message).toMatch(/^\/etc\/vigil\/test\.yaml: not valid YAML at line \d+/);
    expect(err.code).toBe('VIGIL_ERR_CONFIG_FILE');
  });

  it('reports an unreadable file by name', () => {
    const err = errorOf(() => loadConfig({ file: '/nonexistent/vigil.yaml', env: {} }));
    expect(err.message).toBe('/nonexistent/vigil.yaml: cannot read the file (ENOENT)');
    expect(err.code).toBe('VIGIL_ERR_CONFIG_FILE');
  });

  it('rejects host names that are not domain names', () => {
    const err = errorOf(() => parseConfig('hosts:\n  Bad_Host: {}\n', F));
    expect(err.message).toContain('hosts.Bad_Host');
    expect(err.code).toBe('VIGIL_ERR_CONFIG_INVALID');
  });

  it('applies VIGIL_* environment overrides, typed by YAML, validated like the file', () => {
    const { config } = parseConfig('hosts:\n  example.org: {}\n', F, {
      VIGIL_LISTENERS__HTTP__PORT: '9090',
      VIGIL_HOSTS__EXAMPLE_ORG__PING__PING_INTERVAL: '5',
      VIGIL_HOSTS__EXAMPLE_ORG__PING__TIMEOUT_ACTION: 'none',
      VIGIL_API_TOKEN: 'secret-token',
      VIGIL_UNRELATED_THING: 'x',
    });
    expect(config.listeners.http.port).toBe(9090);
    expect(config.hosts['example.org']?.ping.ping_interval).toBe(5);
    expect(config.hosts['example.org']?.ping.timeout_action).toBe('none');
    expect(config.api.token).toBe('secret-token');
    const err = errorOf(() => parseConfig('', F, { VIGIL_LISTENERS__MQTT__PORT: 'many' }));
    expect(err.message).toContain('listeners.mqtt.port: got "many"');
    expect(err.code).toBe('VIGIL_ERR_CONFIG_INVALID');
  });

  it('resolves data_dir against the working directory', () => {
    const { dataDir } = parseConfig('data_dir: ./somewhere\n', F);
    expect(dataDir).toBe(`${process.cwd()}/somewhere`);
  });

  it('keeps docs/config.md in sync with the schema (npm run docs:config)', () => {
    const doc = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8');
    expect(doc).toBe(renderReference());
  });
});
