/**
 * Security properties of issue 8 as tests: plaintext SASL PLAIN refused unless configured; SCRAM
 * iteration count >= 4096 on the production path (REST-created user, advertised i=); constant-time
 * comparison of tokens and credentials; `from` spoofing impossible (the server stamps it); no
 * password, token or PLAIN blob in the logs at trace level while logging in over both protocols
 * and using the REST API. (Failed-auth delay: limits-*.test.ts; REST token on every /v1 route:
 * http.test.ts; MQTT ACL on publish and subscribe: test/mqtt/acl-session.test.ts.)
 */
import { readFileSync } from 'node:fs';
import { generate, type Packet } from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { makeUserRecord } from '../../src/auth/users.js';
import { validate } from '../../src/config/dsl.js';
import { rootSchema } from '../../src/config/schema/root.js';
import { DEFAULT_SCRAM_ITERATIONS, safeEqual } from '../../src/auth/scram.js';
import { createHttpApp } from '../../src/http/app.js';
import { createLocalHostSettings } from '../../src/host-settings.js';
import { tokenMatches } from '../../src/http/auth.js';
import { createHash } from 'node:crypto';
import { RawConn, XmppControl } from '../fuzz/clients.js';
import { FUZZ_DOMAIN, streamHeader } from '../fuzz/xml-cases.js';
import { type World, type WorldOptions, makeWorld, settle } from '../fuzz/world.js';

let world: World;
afterEach(() => world.stop());
const start = (opts: WorldOptions = {}) => (world = makeWorld(opts));
/** The REST API over the world's parts (its host settings from the world's config and store). */
const restApp = (apiToken: string) => {
  const { config, store, logger } = world.deps;
  const hostSettings = createLocalHostSettings({ config, overrides: store.hostConfig, logger });
  return createHttpApp({ ...world.deps, hostSettings, services: () => [], apiToken, ready: () => true });
};
const plainBlob = (user: string, pw: string) => Buffer.from(`\u0000${user}\u0000${pw}`).toString('base64');

async function features(xmpp: Record<string, unknown>): Promise<{ conn: RawConn; text: () => string }> {
  start({ host: { xmpp } });
  const conn = new RawConn(world, 'xmpp', '203.0.113.60', Infinity);
  conn.write([Buffer.from(streamHeader())]);
  await settle();
  return { conn, text: () => Buffer.concat(conn.out).toString() };
}

describe('plaintext authentication', () => {
  it('PLAIN is neither offered nor accepted on an unencrypted stream by default', async () => {
    const { conn, text } = await features({ tls: 'optional', allow_plaintext_auth: false });
    expect(text()).toContain('SCRAM-SHA-256');
    expect(text()).not.toContain('<mechanism>PLAIN</mechanism>');
    conn.write([Buffer.from(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plainBlob('control-a', 'pw-a')}</auth>`)]);
    await settle();
    await world.advance(1_000); // the failed-auth delay
    expect(text()).toMatch(/<failure xmlns=["']urn:ietf:params:xml:ns:xmpp-sasl["']><(invalid-mechanism|encryption-required)\/>/);
    expect(text()).not.toContain('<success');
  });

  it('PLAIN without TLS only with allow_plaintext_auth', async () => {
    const { text } = await features({ tls: 'optional', allow_plaintext_auth: true });
    expect(text()).toContain('<mechanism>PLAIN</mechanism>');
  });

  it('the defaults are allow_plaintext_auth: false and tls: required', () => {
    const config = validate(rootSchema, { hosts: { 'a.example': {} } });
    expect(config.hosts['a.example']!.xmpp).toMatchObject({ allow_plaintext_auth: false, tls: 'required' });
    expect(config.hosts['a.example']!.mqtt.allow_anonymous).toBe(false);
  });
});

describe('SCRAM iteration count', () => {
  it('is at least 4096 by default, for users created over REST, and as advertised in the exchange', async () => {
    expect(DEFAULT_SCRAM_ITERATIONS).toBeGreaterThanOrEqual(4096);
    start({ host: { xmpp: { tls: 'optional' } } });
    const app = restApp('tok-0123456789abcdef');
    const res = await app.inject({ method: 'POST', url: `/v1/hosts/${FUZZ_DOMAIN}/users`, headers: { authorization: 'Bearer tok-0123456789abcdef' }, payload: { user: 'newbie', password: 'n3wbie-pass' } });
    expect(res.statusCode).toBeLessThan(300);
    const rec = world.deps.store.users.get(FUZZ_DOMAIN, 'newbie')!;
    expect(rec.scramSha1!.iterations).toBeGreaterThanOrEqual(4096);
    expect(rec.scramSha256!.iterations).toBeGreaterThanOrEqual(4096);
    await app.close();
    const conn = new RawConn(world, 'xmpp', '203.0.113.61', Infinity);
    const first = Buffer.from('n,,n=newbie,r=clientnonce123').toString('base64');
    conn.write([Buffer.from(streamHeader()), Buffer.from(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>${first}</auth>`)]);
    await settle();
    const challenge = /<challenge xmlns=["']urn:ietf:params:xml:ns:xmpp-sasl["']>([^<]+)<\/challenge>/.exec(Buffer.concat(conn.out).toString());
    const serverFirst = Buffer.from(challenge![1]!, 'base64').toString();
    const i = Number(/,i=(\d+)/.exec(serverFirst)?.[1] ?? `none in ${serverFirst}`);
    expect(i).toBeGreaterThanOrEqual(4096);
  });
});

describe('constant-time comparisons', () => {
  it('the REST token is compared as fixed-length digests with timingSafeEqual', () => {
    const expected = createHash('sha256').update('the-token').digest();
    expect(tokenMatches(expected, 'the-token')).toBe(true);
    expect(tokenMatches(expected, 'the-tokeN')).toBe(false);
    expect(tokenMatches(expected, 'x'.repeat(10_000))).toBe(false); // any length: no throw, no early exit
    expect(readFileSync(new URL('../../src/http/auth.ts', import.meta.url), 'utf8')).toMatch(/timingSafeEqual\(expectedDigest, digest\(presented\)\)/);
  });

  it('SCRAM keys are compared with timingSafeEqual whatever the lengths', () => {
    expect(safeEqual(Buffer.from('abcd'), Buffer.from('abcd'))).toBe(true);
    expect(safeEqual(Buffer.from('abcd'), Buffer.from('abce'))).toBe(false);
    expect(safeEqual(Buffer.from('abcd'), Buffer.from('abc'))).toBe(false);
    const scram = readFileSync(new URL('../../src/auth/scram.ts', import.meta.url), 'utf8');
    expect(scram).toMatch(/return safeEqual\(storedKey, cred\.storedKey\)/);
    expect(readFileSync(new URL('../../src/xmpp/sasl-scram.ts', import.meta.url), 'utf8')).toMatch(/safeEqual\(h\(hash, clientKey\), p\.cred\.storedKey\)/);
    expect(readFileSync(new URL('../../src/auth/password-cache.ts', import.meta.url), 'utf8')).toMatch(/timingSafeEqual\(hit\.digest, digest\)/);
  });
});

describe('from spoofing', () => {
  it('message, presence and iq from a client carry its own full JID whatever from it wrote', async () => {
    start();
    const a = new XmppControl(world, '203.0.113.70');
    const b = new XmppControl(world, '203.0.113.71');
    await a.login('fuzzer', 'fuzzpw', 'mine');
    await b.login('control-b', 'pw-b');
    const spoof = `control-a@${FUZZ_DOMAIN}/ctl`;
    const seen = b.events.length;
    a.send(`<message from='${spoof}' to='control-b@${FUZZ_DOMAIN}/ctl' type='chat'><body>hi</body></message>`);
    a.send(`<presence from='${spoof}' to='control-b@${FUZZ_DOMAIN}/ctl'/>`);
    a.send(`<iq from='${spoof}' to='control-b@${FUZZ_DOMAIN}/ctl' type='get' id='q1'><query xmlns='jabber:iq:version'/></iq>`);
    a.send(`<message from='${FUZZ_DOMAIN}' to='control-b@${FUZZ_DOMAIN}/ctl'><body>from the server?</body></message>`);
    await settle();
    const got = b.events.slice(seen).flatMap((e) => (e.type === 'stanza' && ['message', 'presence', 'iq'].includes(e.el.name) ? [e.el] : []));
    const fromA = got.filter((s) => s.attrs.from !== `control-b@${FUZZ_DOMAIN}/ctl`);
    expect(fromA.length).toBeGreaterThanOrEqual(4);
    for (const s of fromA) expect(s.attrs.from).toBe(`fuzzer@${FUZZ_DOMAIN}/mine`);
  });
});

describe('no secrets in logs', () => {
  it('passwords, PLAIN blobs and the API token never reach the log, at trace level', async () => {
    const PW = 'S3cr3t-Pa55word-XYZ';
    const WRONG = 'Wr0ng-Pa55word-QRS';
    const TOKEN = 'tok-SECRET-abcdef1234567890';
    const BAD_TOKEN = 'tok-WRONG-zzzzzzzzzzzz';
    const NEW_PW = 'N3w-Us3r-Pa55word';
    start({ logLevel: 'trace', keepRaw: true, host: { mqtt: { allow_anonymous: false, auth_failure_delay_ms: 0 }, xmpp: { auth_failure_delay_ms: 0 } } });
    world.deps.store.users.put(makeUserRecord(FUZZ_DOMAIN, 'secretive', PW, world.deps.clock, 64));
    // XMPP: a good and a bad PLAIN login.
    const x = new XmppControl(world, '203.0.113.80');
    await x.login('secretive', PW);
    const bad = new RawConn(world, 'xmpp', '203.0.113.81');
    bad.write([Buffer.from(streamHeader()), Buffer.from(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plainBlob('secretive', WRONG)}</auth>`)]);
    // MQTT: a good and a bad CONNECT with a password.
    const enc = (p: Packet) => generate(p, { protocolVersion: 5 });
    for (const [id, pw] of [['m-ok', PW], ['m-bad', WRONG]] as const) {
      const m = new RawConn(world, 'mqtt', '203.0.113.82');
      m.write([enc({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: id, clean: true, keepalive: 60, username: 'secretive', password: Buffer.from(pw) } as Packet)]);
    }
    await settle();
    // REST: the token, a wrong token, a user created with a password.
    const app = restApp(TOKEN);
    expect((await app.inject({ method: 'GET', url: '/v1/hosts', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/v1/hosts', headers: { authorization: `Bearer ${BAD_TOKEN}` } })).statusCode).toBe(403);
    const created = await app.inject({ method: 'POST', url: `/v1/hosts/${FUZZ_DOMAIN}/users?token=${TOKEN}`, headers: { authorization: `Bearer ${TOKEN}` }, payload: { user: 'another', password: NEW_PW } });
    expect(created.statusCode).toBeLessThan(500);
    await app.close();
    const log = world.raw.join('');
    expect(log.length).toBeGreaterThan(1_000); // trace level really logged
    expect(log).toContain('/v1/hosts/fuzz.example/users'); // the path is logged, not its query
    for (const secret of [PW, WRONG, TOKEN, BAD_TOKEN, NEW_PW, plainBlob('secretive', PW), plainBlob('secretive', WRONG)]) {
      expect(log.includes(secret) ? secret : 'absent').toBe('absent');
    }
  });
});
