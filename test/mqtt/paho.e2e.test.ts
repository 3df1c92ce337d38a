/**
 * Issue 12 with Debian's python3-paho-mqtt 1.6.1 (a client nobody here wrote), on a real socket:
 * QoS 0/1/2 round trips on v5 and 3.1.1 (1.6.1 reads exactly two bytes of a v5 PUBREL: item 1),
 * a v5 will with properties (only PUBLISH properties forwarded, item 2; Will Delay 30 s with Session
 * Expiry 0 goes at once, item 3), and a shared subscription group of three (item 5). Script:
 * test/mqtt/clients/paho_client.py. Skipped locally without python3-paho-mqtt; fails in CI.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON, hasPythonModule } from '../support/python.js';
import { rig } from './harness.js';

const SCRIPT = fileURLToPath(new URL('./clients/paho_client.py', import.meta.url));
const available = hasPythonModule('paho.mqtt.client');
const ci = process.env.CI === 'true';
if (!available && !ci) console.warn('python3-paho-mqtt is not installed: skipping the Paho end-to-end tests (apt-get install python3-paho-mqtt)');

const r = rig({ realTime: true, mqtt: { max_connection_rate_per_ip: 0 } });
let port = 0;
beforeAll(async () => {
  if (!available && !ci) return;
  await r.service.start();
  port = r.service.address()!.port;
});
afterAll(async () => {
  if (port !== 0) await r.service.stop();
});

function paho(mode: string): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [SCRIPT, String(port), mode], { timeout: 20_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)),
    );
  });
}

describe.skipIf(!available && !ci)('Paho Python 1.6.1 end to end', () => {
  it('is installed (CI)', () => expect(available, 'python3-paho-mqtt must be installed in CI (.ci/apt-packages)').toBe(true));

  for (const mode of ['roundtrip5', 'roundtrip311']) {
    it(`${mode}: QoS 0, 1 and 2 published to completion and received`, async () => {
      const lines = await paho(mode);
      expect(lines.filter((l) => l.event === 'published').map((l) => l.complete)).toEqual([true, true, true]);
      expect(lines.find((l) => l.event === 'received')).toEqual({
        event: 'received',
        complete: true,
        messages: [
          ['paho/rt/0', 'q0', 0],
          ['paho/rt/1', 'q1', 1],
          ['paho/rt/2', 'q2', 2],
        ],
      });
    });
  }

  it('a v5 will with properties: delivered when the connection drops (Session Expiry 0 < Will Delay), PUBLISH properties only', async () => {
    const [will] = await paho('will');
    expect(will).toMatchObject({ event: 'will', received: true, payload: 'gone' });
    const props = will!.properties as Record<string, unknown>;
    expect(props).toMatchObject({ ContentType: 'text/plain', UserProperty: [['origin', 'paho']] });
    expect(props.MessageExpiryInterval).toBeGreaterThan(590);
    expect(props).not.toHaveProperty('WillDelayInterval');
  });

  it('a shared subscription group of three (two v5, one 3.1.1): 30 jobs, each once, ten each', async () => {
    const [shared] = await paho('shared');
    expect(shared).toMatchObject({ complete: true, counts: { 'paho-worker-0': 10, 'paho-worker-1': 10, 'paho-worker-2': 10 } });
  });
});
