/**
 * CONNECT passwords checked off the event loop (src/mqtt/connect-check.ts): a cache miss runs
 * PBKDF2 on the libuv pool while the connection holds its input; a hit answers at once. A gated
 * checker (GatedChecker) lets each test decide when a miss's outcome arrives, so "pending" is
 * exact, not a race. Waiting for the pool itself is a bounded loop of setImmediate turns (until()).
 */
import { generate, type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { PasswordChecker } from '../../src/auth/password-cache.js';
import { createMqttService } from '../../src/mqtt/listener.js';
import type { Store } from '../../src/store/types.js';
import { createXmppEngine } from '../../src/xmpp/engine.js';
import { duplexPair } from '../support/duplex-pair.js';
import { TestClient as XmppClient } from '../xmpp/duplex.js';
import { header } from '../xmpp/harness.js';
import { DOMAIN, makeRig } from '../xmpp/rig.js';
import { until } from '../support/until.js';
import { HOST, TestClient, rig, settle } from './harness.js';

/** A PasswordChecker whose cache misses answer only once the test opens the gate. */
class GatedChecker extends PasswordChecker {
  private gate: Promise<void>;
  open!: () => void;
  /** Outcomes of misses, once the pool has them (before the gate opens). */
  readonly settled: boolean[] = [];

  constructor(store: Store) {
    super(store);
    this.gate = this.shut();
  }

  private shut(): Promise<void> {
    return new Promise<void>((r) => (this.open = r));
  }

  /** Close the gate again for the next miss. */
  close(): void {
    this.gate = this.shut();
  }

  override checkSoon(host: string, user: string, password: Buffer | string): boolean | Promise<boolean> {
    const r = super.checkSoon(host, user, password);
    if (typeof r === 'boolean') return r;
    const gate = this.gate;
    return r.then(async (ok) => {
      this.settled.push(ok);
      await gate;
      return ok;
    });
  }
}

function gatedRig(mqtt: Record<string, unknown> = {}) {
  const r = rig({ mqtt });
  const gated = new GatedChecker(r.store);
  const service = createMqttService({ ...r.deps, passwords: gated });
  r.addUser(HOST, 'alice', 'secret');
  r.addUser(HOST, 'bob', 'builder');
  const client = (version: 4 | 5 = 4, ip = '10.0.0.1') => new TestClient(service, version, ip);
  return { ...r, gated, service, client };
}

const connect = (clientId: string, version: 4 | 5, extra: Record<string, unknown> = {}): Packet =>
  ({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: version, clientId, clean: true, keepalive: 60, ...extra }) as Packet;
const bytes = (version: 4 | 5, ...ps: Packet[]) => Buffer.concat(ps.map((p) => generate(p, { protocolVersion: version })));
const creds = (username: string, password: string) => ({ username, password: Buffer.from(password) });

describe('CONNECT password checked off the event loop', () => {
  it('holds SUBSCRIBE/PUBLISH pipelined behind the CONNECT (same read and later reads) and answers them in order after CONNACK', async () => {
    const r = gatedRig();
    const c = r.client(4);
    c.raw(
      bytes(
        4,
        connect('dev', 4, creds('alice', 'secret')),
        { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/#', qos: 1 }] } as Packet,
        { cmd: 'publish', topic: 'b', payload: Buffer.from('x'), qos: 1, messageId: 2, retain: false, dup: false } as Packet,
      ),
    );
    await until(() => r.gated.settled.length === 1);
    // Arrives while the check is pending: held behind the rest.
    c.send({ cmd: 'pingreq' });
    await settle();
    expect(r.gated.settled).toEqual([true]);
    expect(c.received).toEqual([]);
    expect(r.presence.count(HOST)).toBe(0);
    expect(r.liveness.size()).toBe(0);
    r.gated.open();
    expect(await until(() => c.received.some((p) => p.cmd === 'pingresp'))).toBe(true);
    expect(c.received.map((p) => p.cmd)).toEqual(['connack', 'suback', 'puback', 'pingresp']);
    expect(c.take('suback')[0]?.messageId).toBe(1);
    expect(c.take('puback')[0]?.messageId).toBe(2);
    expect(r.presence.count(HOST, 'mqtt', 'online')).toBe(1);
    // The next CONNECT with the same password hits the cache: answered without the pool (gate shut).
    r.gated.close();
    const again = r.client(4);
    again.send(connect('dev2', 4, creds('alice', 'secret')));
    await settle();
    expect(again.take('connack')[0]?.returnCode).toBe(0);
    expect(r.gated.hits).toBe(1);
    expect(r.gated.misses).toBe(1);
  });

  it('a socket that closes while the check runs leaves nothing behind', async () => {
    const r = gatedRig();
    const c = r.client(5);
    c.send(connect('gone', 5, creds('alice', 'secret')));
    await until(() => r.gated.settled.length === 1);
    c.drop();
    await settle();
    expect(r.service.broker.connectionCount).toBe(0);
    r.gated.open();
    await settle(20);
    expect(r.presence.count(HOST)).toBe(0);
    expect(r.liveness.size()).toBe(0);
    expect(r.service.broker.connectionCount).toBe(0);
    expect(r.service.broker.sessions.figures(HOST, 'gone')).toBeFalsy();
  });

  it('the CONNECT timeout still applies while the check is pending', async () => {
    const r = gatedRig({ connect_timeout: 5 });
    const c = r.client(4);
    c.send(connect('slow', 4, creds('alice', 'secret')));
    await until(() => r.gated.settled.length === 1);
    await r.advance(7_000);
    expect(c.closed).toBe(true);
    r.gated.open();
    await settle(20);
    expect(c.received).toEqual([]);
    expect(r.liveness.size()).toBe(0);
    expect(r.presence.count(HOST)).toBe(0);
  });

  it('a wrong password is refused (v5 0x86) only after the failed-auth delay, input held is dropped', async () => {
    const r = gatedRig({ auth_failure_delay_ms: 1_000 });
    const c = r.client(5);
    c.raw(bytes(5, connect('guess', 5, creds('alice', 'wrong')), { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a', qos: 0 }] } as Packet));
    await until(() => r.gated.settled.length === 1);
    expect(r.gated.settled).toEqual([false]);
    r.gated.open();
    await settle(20);
    expect(c.received).toEqual([]);
    await r.advance(999);
    expect(c.received).toEqual([]);
    await r.advance(1);
    expect(c.received.map((p) => p.cmd)).toEqual(['connack']);
    expect(c.take('connack')[0]?.reasonCode).toBe(0x86);
    expect(c.closed).toBe(true);
    expect(r.liveness.size()).toBe(0);
  });

  it('a takeover happens only once the second CONNECT was accepted', async () => {
    const r = gatedRig();
    r.gated.open(); // the first login goes through
    const first = r.client(4, '10.0.0.1');
    first.send(connect('dev', 4, creds('alice', 'secret')));
    await until(() => first.received.some((p) => p.cmd === 'connack'));
    expect(first.take('connack')[0]?.returnCode).toBe(0);
    r.gated.close();
    // A wrong password for the same client id: no takeover.
    const wrong = r.client(4, '10.0.0.2');
    wrong.send(connect('dev', 4, creds('bob', 'nope')));
    await until(() => r.gated.settled.length === 2);
    r.gated.open();
    await until(() => wrong.closed);
    expect(wrong.take('connack')[0]?.returnCode).toBe(4);
    expect(first.closed).toBe(false);
    r.gated.close();
    // The right one: the old connection stays while the check runs, is taken over once accepted [MQTT-3.1.4-2/3].
    const second = r.client(4, '10.0.0.3');
    second.send(connect('dev', 4, creds('bob', 'builder')));
    await until(() => r.gated.settled.length === 3);
    await settle();
    expect(first.closed).toBe(false);
    expect(r.events.filter((e) => e.type === 'offline')).toHaveLength(0);
    expect(r.liveness.size()).toBe(1);
    r.gated.open();
    await until(() => first.closed);
    expect(first.closed).toBe(true);
    expect(second.take('connack')[0]?.returnCode).toBe(0);
    expect(second.closed).toBe(false);
    expect(r.liveness.size()).toBe(1);
    expect(r.presence.count(HOST, 'mqtt', 'online')).toBe(1);
  });
});

describe('one password cache for MQTT and XMPP (CoreDeps.passwords)', () => {
  it('an MQTT login warms the XMPP PLAIN login of the same user', async () => {
    const x = makeRig({ host: { xmpp: { tls: 'off', allow_plaintext_auth: true } } });
    const passwords = new PasswordChecker(x.deps.store);
    const deps = { ...x.deps, passwords };
    const mqtt = createMqttService(deps);
    const engine = createXmppEngine(deps, { random: () => 'r' });
    const m = new TestClient(mqtt, 4, '10.0.0.1');
    expect((await m.connect(creds(`alice@${DOMAIN}`, 'secret'), 'm1'))[0]?.returnCode).toBe(0);
    expect(passwords.misses).toBe(1);
    expect(passwords.hits).toBe(0);
    const [server, client] = duplexPair();
    engine.accept(server, '10.0.0.2');
    const c = new XmppClient(client);
    await c.send(header());
    await c.sendSasl(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\u0000alice\u0000secret').toString('base64')}</auth>`);
    expect(c.stanzas().at(-1)?.name).toBe('success');
    expect(passwords.hits).toBe(1);
    expect(passwords.misses).toBe(1);
  });

  it('the broker checks with the cache it is given and builds none of its own (app.ts builds the one)', () => {
    const r = rig();
    expect(r.service.broker.passwords).toBe(r.deps.passwords);
    const passwords = new PasswordChecker(r.deps.store);
    expect(createMqttService({ ...r.deps, passwords }).broker.passwords).toBe(passwords);
  });
});
