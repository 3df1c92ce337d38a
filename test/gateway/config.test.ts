/** `gateways:` in the config file: the public keys, their defaults and the rules across keys. */
import { describe, expect, it } from 'vitest';
import { configCheckCommand } from '../../src/cli/config-check.js';
import { ConfigError, parseConfig } from '../../src/config/load.js';

const F = '/etc/vigil/gw.yaml';

function error(yaml: string): { message: string; keyPath: string | null } {
  try {
    parseConfig(yaml, F, {});
  } catch (err) {
    if (err instanceof ConfigError) return { message: err.message, keyPath: err.keyPath };
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('gateways config', () => {
  it('reads gateways.<name>.kind|host|mqtt|webhook|api with defaults, and fills the only host', () => {
    const { config } = parseConfig(
      ['hosts: {example.org: {}}', 'gateways:', '  emqx1:', '    kind: emqx', '    mqtt: {url: "mqtts://broker:8883", username: vigil, password: pw, client_id: watch-1, tls: {reject_unauthorized: false}}', '    webhook: {secret: s3cret}', '    api: {url: "http://broker:18083", token: tok}'].join('\n'),
      F,
      {},
    );
    expect(config.gateways.emqx1).toMatchObject({
      kind: 'emqx',
      host: 'example.org',
      gateway_timeout: 60,
      offline_debounce_ms: 2000,
      mqtt: { url: 'mqtts://broker:8883', username: 'vigil', client_id: 'watch-1', ping_interval: 15, ping_ack_timeout: 5, tls: { reject_unauthorized: false } },
      webhook: { secret: 's3cret', max_body_bytes: 65536 },
      api: { url: 'http://broker:18083', token: 'tok', timeout_ms: 10000 },
    });
  });

  it('takes secrets from the environment', () => {
    const { config } = parseConfig('gateways: {vmq: {kind: vernemq, webhook: {secret: x}}}', F, { VIGIL_GATEWAYS__VMQ__WEBHOOK__SECRET: 'from-env' });
    expect(config.gateways.vmq?.webhook.secret).toBe('from-env');
  });

  it.each([
    ['gateways: {g: {mqtt: {url: "mqtt://b"}}}', 'gateways.g.kind', /required/],
    ['gateways: {g: {kind: hivemq, mqtt: {url: "mqtt://b"}}}', 'gateways.g.kind', /emqx\|mosquitto/],
    ['gateways: {g: {kind: aedes}}', 'gateways.g', /at least one of mqtt.url/],
    ['gateways: {g: {kind: aedes, webhook: {secret: s}}}', 'gateways.g.webhook', /aedes offers mqtt/],
    ['gateways: {g: {kind: ejabberd, mqtt: {url: "mqtt://b"}}}', 'gateways.g.mqtt', /ejabberd offers api/],
    ['gateways: {g: {kind: ejabberd, poll_interval: 0, api: {url: "http://e:5281/api"}}}', 'gateways.g.poll_interval', /only polled/],
    ['gateways: {local: {kind: aedes, mqtt: {url: "mqtt://b"}}}', 'gateways.local', /not "local"/],
    ['gateways: {g: {kind: aedes, host: nowhere, mqtt: {url: "mqtt://b"}}}', 'gateways.g.host', /one of the hosts/],
    ['hosts: {a.org: {}, b.org: {}}\ngateways: {g: {kind: aedes, mqtt: {url: "mqtt://b"}}}', 'gateways.g.host', /required when several/],
    ['gateways: {g: {kind: aedes, mqtt: {url: "http://b"}}}', 'gateways.g.mqtt.url', /mqtts\?/],
    ['gateways: {g: {kind: aedes, mqtt: {url: "mqtt://b", password: 1234}}}', 'gateways.g.mqtt.password', /a string or null/],
    ['gateways: {g: {kind: emqx, api: {url: "http://e", token: t, username: u}}}', 'gateways.g.api.token', /not both/],
  ])('refuses %s naming %s', (yaml, key, text) => {
    const e = error(yaml);
    expect(e.keyPath).toBe(key);
    expect(e.message).toMatch(text);
    expect(e.message).not.toMatch(/1234|"t"/);
  });

  it('`vigil config check` shows every secret as (set): API token, webhook secret, watcher and API passwords', async () => {
    const loaded = parseConfig(
      'api: {token: tok-SECRET1}\ngateways: {g: {kind: emqx, mqtt: {url: "mqtt://b", password: pw-SECRET2}, webhook: {secret: wh-SECRET3}, api: {url: "http://e", username: u, password: pw-SECRET4}}}',
      F,
      {},
    );
    const out: string[] = [];
    expect(await configCheckCommand([], { loaded, out: (l) => out.push(l), err: () => undefined })).toBe(0);
    const text = out.join('\n');
    expect(text).not.toMatch(/SECRET/);
    expect(text.match(/\(set\)/g)).toHaveLength(4);
    expect(text).toContain('username: u');
  });
});
