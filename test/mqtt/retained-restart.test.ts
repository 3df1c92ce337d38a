import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { rig, settle } from './harness.js';

describe('retained messages across a restart (SQLite store)', () => {
  let root = '';
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('keeps payload, QoS, v5 properties (Buffers included) and the expiry deadline', async () => {
    root = mkdtempSync(join(tmpdir(), 'vigil-mqtt-'));
    const dir = join(root, 'data');
    const first = rig({ store: openStore('sqlite', dir) });
    const pub = first.client(5);
    await pub.connect({}, 'pub');
    const properties = { correlationData: Buffer.from([1, 2, 3]), userProperties: { k: 'v' }, contentType: 'text/plain', messageExpiryInterval: 100 };
    pub.send({ cmd: 'publish', topic: 'keep/me', payload: Buffer.from('state'), qos: 1, messageId: 1, retain: true, dup: false, properties });
    await settle();
    await first.service.stop();
    first.store.close();
    const stoppedAt = first.clock.now();

    const second = rig({ store: openStore('sqlite', dir), startAt: stoppedAt + 40_000 });
    const sub = second.client(5);
    await sub.connect({}, 'sub');
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'keep/#', qos: 1 }] });
    await settle();
    const [m] = sub.take('publish');
    expect(m?.payload.toString()).toBe('state');
    expect(m).toMatchObject({ qos: 1, retain: true });
    expect(Buffer.from(m!.properties!.correlationData!).equals(Buffer.from([1, 2, 3]))).toBe(true);
    expect(m?.properties).toMatchObject({ userProperties: { k: 'v' }, contentType: 'text/plain', messageExpiryInterval: 60 });
    await second.service.stop();
    second.store.close();
  });
});
