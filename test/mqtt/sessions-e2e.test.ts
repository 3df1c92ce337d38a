/**
 * Persistent sessions with real clients on a real socket (127.0.0.1, port 0): mqtt.js with
 * clean: false and Debian's `mosquitto_sub -c` receive what was published while they were away.
 * Missing mosquitto-clients fails in CI (CI=true) and skips locally with a message.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../support/until.js';
import { HOST } from './harness.js';
import { liveRig } from './live-rig.js';

const hasMosquitto = existsSync('/usr/bin/mosquitto_sub');
if (!hasMosquitto && process.env.CI) throw new Error('mosquitto-clients is required in CI (see .ci/apt-packages)');
if (!hasMosquitto) console.warn('mosquitto-clients not installed: skipping the mosquitto_sub -c persistent session test');

const live = liveRig();
const { r } = live;
const { connect, clients } = live;

async function publishQos1(topic: string, n: number): Promise<void> {
  const pub = await connect({ clientId: `pub-${topic}` });
  for (let i = 0; i < n; i++) await pub.publishAsync(topic, `m${i}`, { qos: 1 });
  await pub.endAsync();
}

const sessionOf = (id: string) => r.service.broker.sessions.figures(HOST, id);

describe('persistent sessions with real clients', () => {
  it('mqtt.js clean: false gets the QoS 1 messages published while it was offline, in order', async () => {
    const first = await connect({ clientId: 'js-pers', clean: false });
    await first.subscribeAsync('pers/js', { qos: 1 });
    await first.endAsync();
    await until(() => sessionOf('js-pers')?.connected === false, { capMs: 5000, everyMs: 5 });
    await publishQos1('pers/js', 50);
    expect(sessionOf('js-pers')).toMatchObject({ queued: 50, persistent: true });

    const got: string[] = [];
    const again = mqtt.connect({ host: '127.0.0.1', port: live.port, reconnectPeriod: 0, clientId: 'js-pers', clean: false });
    clients.push(again);
    again.on('message', (_t, p) => got.push(p.toString()));
    const [connack] = (await new Promise((res) => again.once('connect', (ack) => res([ack])))) as [mqtt.IConnackPacket];
    expect(connack.sessionPresent).toBe(true);
    await until(() => got.length >= 50, { capMs: 5000, everyMs: 5 });
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
    await again.endAsync();
  });

  describe.skipIf(!hasMosquitto)('mosquitto_sub', () => {
    // Stopped after each test whatever happened (a test that times out must not leave one running).
    const running = new Set<ReturnType<typeof spawn>>();
    afterEach(() => {
      for (const p of running) p.kill('SIGKILL');
      running.clear();
    });
    const sub = (args: string[]) => {
      const p = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(live.port), ...args]);
      running.add(p);
      p.on('close', () => running.delete(p));
      let out = '';
      p.stdout.on('data', (b: Buffer) => (out += b.toString()));
      const done = new Promise<string>((res) => p.on('close', () => res(out)));
      return { done, kill: () => p.kill('SIGTERM') };
    };

    it('mosquitto_sub -c -i ID -q 1 receives the messages published while it was away', async () => {
      const args = ['-c', '-i', 'mos-pers', '-q', '1', '-t', 'pers/mos'];
      const s = sub(args);
      await until(() => sessionOf('mos-pers')?.subscriptions === 1 && sessionOf('mos-pers')?.connected === true, { capMs: 5000, everyMs: 5 });
      s.kill();
      await s.done;
      await until(() => sessionOf('mos-pers')?.connected === false, { capMs: 5000, everyMs: 5 });
      await publishQos1('pers/mos', 5);
      expect(sessionOf('mos-pers')).toMatchObject({ queued: 5 });
      const back = sub([...args, '-C', '5']);
      expect((await back.done).trim().split('\n')).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    });
  });
});
