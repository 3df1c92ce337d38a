/**
 * End-to-end: the MQTT service on a real socket (127.0.0.1, port 0) with clients nobody here
 * wrote: mqtt.js and Debian's mosquitto_pub / mosquitto_sub. Missing mosquitto-clients fails in
 * CI (CI=true) and skips locally with a message.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type mqtt from 'mqtt';
import { type MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { until } from '../support/until.js';
import { HOST, OTHER } from './harness.js';
import { liveRig } from './live-rig.js';

const hasMosquitto = existsSync('/usr/bin/mosquitto_pub') && existsSync('/usr/bin/mosquitto_sub');
if (!hasMosquitto && process.env.CI) throw new Error('mosquitto-clients is required in CI (see .ci/apt-packages)');
if (!hasMosquitto) console.warn('mosquitto-clients not installed: skipping the mosquitto end-to-end tests');

const live = liveRig(
  {
    mqtt: {
      acl: [
        { permission: 'deny', action: 'subscribe', topic: 'secret/#' },
        { permission: 'deny', action: 'publish', topic: 'readonly/#', username: '*' },
      ],
    },
  },
  (r) => {
    r.addUser(HOST, 'alice', 'wonder');
    r.addUser(OTHER, 'bob', 'builder');
    r.liveness.setHostConfig(OTHER, { mqtt_probe: 'pingreq', ping_interval: 1, ping_ack_timeout: 1 });
  },
);
const { r, connect } = live;

const nextMessage = (c: MqttClient) =>
  new Promise<{ topic: string; payload: string; packet: mqtt.IPublishPacket }>((resolve) =>
    c.once('message', (topic, payload, packet) => resolve({ topic, payload: payload.toString(), packet })),
  );

const run = (cmd: string, args: string[]) =>
  new Promise<string>((resolve, reject) =>
    execFile(cmd, args, { timeout: 5000 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd}: ${err.message} ${stderr}`)) : resolve(stdout))),
  );

describe('mqtt.js', () => {
  it.each([0, 1, 2] as const)('QoS %i round trip (3.1.1)', async (qos) => {
    const sub = await connect({ clientId: `sub${qos}` });
    await sub.subscribeAsync(`e2e/q${qos}`, { qos });
    const pub = await connect({ clientId: `pub${qos}` });
    const got = nextMessage(sub);
    await pub.publishAsync(`e2e/q${qos}`, `hello ${qos}`, { qos });
    const m = await got;
    expect(m.payload).toBe(`hello ${qos}`);
    expect(m.packet.qos).toBe(qos);
  });

  it('retained message on subscribe', async () => {
    const pub = await connect({ clientId: 'rpub' });
    await pub.publishAsync('e2e/retained', 'kept', { qos: 1, retain: true });
    const sub = await connect({ clientId: 'rsub' });
    const got = nextMessage(sub);
    await sub.subscribeAsync('e2e/retained', { qos: 1 });
    const m = await got;
    expect(m.payload).toBe('kept');
    expect(m.packet.retain).toBe(true);
  });

  it('will on abrupt close, takeover with 0x8E', async () => {
    const watcher = await connect({ clientId: 'watcher' });
    await watcher.subscribeAsync('e2e/will/#', { qos: 1 });
    const dying = await connect({ clientId: 'dying', will: { topic: 'e2e/will/dying', payload: Buffer.from('bye'), qos: 1, retain: false } });
    const got = nextMessage(watcher);
    dying.stream.destroy();
    expect((await got).payload).toBe('bye');

    const first = await connect({ clientId: 'same', protocolVersion: 5 });
    const disconnected = new Promise<number | undefined>((res) => first.once('disconnect', (p) => res(p.reasonCode)));
    const second = await connect({ clientId: 'same', protocolVersion: 5 });
    expect(await disconnected).toBe(0x8e);
    expect(second.connected).toBe(true);
    expect(r.presence.get({ host: HOST, transport: 'mqtt', id: 'same' })?.state).toBe('online');
  });

  it('authenticates user@host and refuses a bad password', async () => {
    const ok = await connect({ clientId: 'alice1', username: `alice@${HOST}`, password: 'wonder' });
    expect(ok.connected).toBe(true);
    await expect(connect({ clientId: 'alice2', username: 'alice', password: 'nope' })).rejects.toThrow(/Bad username or password/i);
  });

  it('ACL: denied subscription gets 0x87 (v5), denied publish gets PUBACK 0x87', async () => {
    const c = await connect({ clientId: 'acl', protocolVersion: 5 });
    const refused = await c.subscribeAsync('secret/x', { qos: 1 }).then(
      () => 'granted',
      (e: Error) => e.message,
    );
    expect(refused).toMatch(/Not authorized/);
    const err = await c.publishAsync('readonly/x', 'no', { qos: 1 }).then(
      () => null,
      (e: Error & { code?: number }) => e.code,
    );
    expect(err).toBe(0x87);
  });

  it('v5 properties: user properties, content type, subscription id, message expiry', async () => {
    const sub = await connect({ clientId: 'v5sub', protocolVersion: 5 });
    await sub.subscribeAsync('e2e/v5', { qos: 1, properties: { subscriptionIdentifier: 42 } });
    const pub = await connect({ clientId: 'v5pub', protocolVersion: 5 });
    const got = nextMessage(sub);
    await pub.publishAsync('e2e/v5', 'p', {
      qos: 1,
      properties: { userProperties: { k: 'v' }, contentType: 'text/plain', messageExpiryInterval: 60 },
    });
    const m = await got;
    expect(m.packet.properties).toMatchObject({ userProperties: { k: 'v' }, contentType: 'text/plain', subscriptionIdentifier: 42 });
    expect(m.packet.properties?.messageExpiryInterval).toBeLessThanOrEqual(60);
  });
});

describe.skipIf(!hasMosquitto)('mosquitto clients', () => {
  const sub = (args: string[]) => {
    const p = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(live.port), ...args]);
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const done = new Promise<string>((res) => p.on('close', () => res(out)));
    return { done, stderr: () => err, kill: (sig: NodeJS.Signals = 'SIGTERM') => p.kill(sig) };
  };

  it.each(['0', '1', '2'])('QoS %s round trip mosquitto_pub -> mosquitto_sub', async (qos) => {
    const before = r.service.broker.subscriptionCount(HOST);
    const s = sub(['-t', `mos/q${qos}`, '-q', qos, '-C', '1', '-i', `msub${qos}`]);
    await until(() => r.service.broker.subscriptionCount(HOST) > before, { capMs: 3000, everyMs: 5 });
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(live.port), '-t', `mos/q${qos}`, '-q', qos, '-m', `m${qos}`]);
    expect((await s.done).trim()).toBe(`m${qos}`);
  });

  it('retained, with a user, and v5 user properties', async () => {
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(live.port), '-u', 'alice', '-P', 'wonder', '-t', 'mos/ret', '-r', '-m', 'r1']);
    const s = sub(['-t', 'mos/ret', '-C', '1', '-V', 'mqttv5', '-F', '%r %p']);
    expect((await s.done).trim()).toBe('1 r1');
    const before = r.service.broker.subscriptionCount(HOST);
    const s5 = sub(['-t', 'mos/v5', '-C', '1', '-V', 'mqttv5', '-F', '%P %p']);
    await until(() => r.service.broker.subscriptionCount(HOST) > before, { capMs: 3000, everyMs: 5 });
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(live.port), '-V', 'mqttv5', '-t', 'mos/v5', '-D', 'PUBLISH', 'user-property', 'a', 'b', '-m', 'x']);
    expect((await s5.done).trim()).toBe('a:b x');
  });

  it('ACL deny: mosquitto_sub is refused a secret topic', async () => {
    const s = sub(['-t', 'secret/y', '-C', '1', '-V', 'mqttv5']);
    expect(await s.done).toBe('');
    expect(s.stderr()).toMatch(/denied/i);
  });

  it('mqtt_probe pingreq: libmosquitto 2.0 answers a server PINGREQ (2.1 drops the connection), mqtt.js ignores it', async () => {
    const key = (id: string) => ({ host: OTHER, transport: 'mqtt' as const, id });
    const help = await new Promise<string>((res) => execFile('mosquitto_sub', ['--help'], (_e, out, err) => res(`${out}${err}`)));
    const version = /libmosquitto (\d+)\.(\d+)/.exec(help);
    const answers = version !== null && version[1] === '2' && version[2] === '0';
    const js = await connect({ clientId: 'js-probe', username: `bob@${OTHER}`, password: 'builder', keepalive: 0 });
    const s = sub(['-t', 'x', '-i', 'mos-probe', '-u', `bob@${OTHER}`, '-P', 'builder', '-k', '60']);
    await until(() => r.presence.get(key('mos-probe'))?.state === 'online', { capMs: 3000, everyMs: 5 });
    const answered = () => r.events.some((e) => e.type === 'probe_answered' && e.ref.id === 'mos-probe');
    if (answers) await until(answered, { capMs: 4000, everyMs: 5 });
    else await until(() => r.presence.get(key('mos-probe'))?.state === 'offline', { capMs: 4000, everyMs: 5 });
    await until(() => r.presence.get(key('js-probe'))?.state === 'offline', { capMs: 4000, everyMs: 5 });
    expect(r.presence.get(key('js-probe'))?.last_disconnect_reason).toBe('ping_timeout');
    expect(r.presence.get(key('mos-probe'))?.state).toBe(answers ? 'online' : 'offline');
    s.kill();
    js.end(true);
  });

  it('will on abrupt close of a mosquitto_sub', async () => {
    const watcher = await connect({ clientId: 'mwatch' });
    await watcher.subscribeAsync('mos/will', { qos: 1 });
    const before = r.service.broker.subscriptionCount(HOST);
    const s = sub(['-t', 'mos/none', '-i', 'mwill', '--will-topic', 'mos/will', '--will-payload', 'gone', '--will-qos', '1']);
    await until(() => r.service.broker.subscriptionCount(HOST) > before, { capMs: 3000, everyMs: 5 });
    const got = nextMessage(watcher);
    s.kill('SIGKILL'); // no DISCONNECT: the network connection just ends
    expect((await got).payload).toBe('gone');
  });
});
