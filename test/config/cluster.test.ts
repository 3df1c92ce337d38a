/** The `cluster` section: absent = single node (null), validated when present, url xor nodes. */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';

const parse = (yaml: string, env: NodeJS.ProcessEnv = {}) => parseConfig(yaml, '/etc/vigil.yaml', env).config;

describe('cluster config', () => {
  it('absent section: single-node mode (null)', () => {
    expect(parse('hosts: {localhost: {}}').cluster).toBeNull();
  });

  it('present: defaults filled (lease 15 s, node_id null)', () => {
    const c = parse('cluster: {redis: {url: "redis://127.0.0.1:6379"}}').cluster!;
    expect(c).toEqual({ redis: { url: 'redis://127.0.0.1:6379', nodes: [], password: null, tls: false }, node_id: null, lease_ms: 15_000 });
  });

  it('url and nodes together, or neither, name the key', () => {
    expect(() => parse('cluster: {redis: {url: "redis://a:1", nodes: ["b:2"]}}')).toThrow(/cluster\.redis: give either url/);
    expect(() => parse('cluster: {redis: {}}')).toThrow(ConfigError);
  });

  it('bad values name file, key and expectation', () => {
    expect(() => parse('cluster: {redis: {url: "http://x"}}')).toThrow(/cluster\.redis\.url: got "http:\/\/x"/);
    expect(() => parse('cluster: {redis: {url: "redis://x:1"}, lease_ms: 10}')).toThrow(/cluster\.lease_ms: got 10, expected an integer from 300/);
    expect(() => parse('cluster: {redis: {url: "redis://x:1"}, node_id: "a b"}')).toThrow(/cluster\.node_id/);
  });

  it('gateways together with cluster are refused, naming the key', () => {
    const g = 'gateways: {emqx1: {kind: emqx, host: localhost, webhook: {secret: "0123456789abcdef0123"}}}';
    expect(() => parse(`${g}\ncluster: {redis: {url: "redis://x:1"}}`)).toThrow(/gateways: not supported together with cluster/);
  });

  it('the password comes from the environment', () => {
    const c = parse('cluster: {redis: {url: "redis://x:1"}}', { VIGIL_CLUSTER__REDIS__PASSWORD: 's3cret' }).cluster!;
    expect(c.redis.password).toBe('s3cret');
  });
});

describe('config check hides secrets', () => {
  it('api.token and cluster.redis.password are shown as (set)', async () => {
    const { redactSecrets } = await import('../../src/config/dsl.js');
    const { rootSchema } = await import('../../src/config/schema/root.js');
    const c = parse('api: {token: tok-0123456789abcdef}\ncluster: {redis: {url: "redis://x:1", password: "sekrit"}}');
    const shown = JSON.stringify(redactSecrets(rootSchema, c));
    expect(shown).not.toContain('sekrit');
    expect(shown).not.toContain('tok-0123456789abcdef');
    expect(shown).toContain('"password":"(set)"');
  });
});
