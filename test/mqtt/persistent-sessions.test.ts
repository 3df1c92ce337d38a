/**
 * Persistent sessions through the broker (issue 5): a subscriber with clean session 0 goes
 * offline, 1000 QoS 1 messages are published (each PUBACKed once durable), it reconnects and gets
 * all 1000 in order through its inflight window; the same across a restart on a SQLite store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { rig, settle, type TestClient } from './harness.js';

const N = 1000;

async function subscribeAndLeave(r: ReturnType<typeof rig>): Promise<void> {
  const sub = r.client(4);
  const [ack] = await sub.connect({ clean: false }, 'sub');
  expect(ack?.returnCode).toBe(0);
  sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'q/#', qos: 1 }] });
  await settle(8);
  expect(sub.take('suback')[0]?.granted).toEqual([1]);
  sub.send({ cmd: 'disconnect' });
  await settle();
}

async function publishAll(r: ReturnType<typeof rig>): Promise<void> {
  const pub = r.client(4, '10.0.0.2');
  await pub.connect({}, 'pub');
  for (let i = 0; i < N; i++) pub.send({ cmd: 'publish', topic: `q/${i % 7}`, payload: Buffer.from(String(i)), qos: 1, messageId: (i % 65_535) + 1, retain: false, dup: false });
  for (let i = 0; i < 50 && pub.received.length < N; i++) await settle();
  expect(pub.take('puback')).toHaveLength(N);
}

/** Reconnect with clean session 0 and acknowledge everything until nothing more comes. */
async function resumeAndDrain(r: ReturnType<typeof rig>): Promise<{ present: boolean; payloads: string[] }> {
  const sub: TestClient = r.client(4);
  const [ack] = await sub.connect({ clean: false }, 'sub');
  const payloads: string[] = [];
  for (let idle = 0; idle < 5; ) {
    await settle();
    const got = sub.take('publish');
    if (got.length === 0) {
      idle++;
      continue;
    }
    idle = 0;
    for (const p of got) {
      payloads.push(p.payload.toString());
      sub.send({ cmd: 'puback', messageId: p.messageId! });
    }
  }
  return { present: ack?.sessionPresent ?? false, payloads };
}

const expected = Array.from({ length: N }, (_, i) => String(i));

describe('persistent sessions (clean session 0)', () => {
  let root = '';
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
    root = '';
  });

  it('an offline subscriber gets all 1000 QoS 1 messages in order on reconnect', async () => {
    const r = rig();
    await subscribeAndLeave(r);
    await publishAll(r);
    expect(r.service.broker.sessions.figures('example.org', 'sub')).toMatchObject({ connected: false, persistent: true, queued: N, dropped: 0 });
    const { present, payloads } = await resumeAndDrain(r);
    expect(present).toBe(true);
    expect(payloads).toEqual(expected);
    expect(r.service.broker.sessions.figures('example.org', 'sub')).toMatchObject({ connected: true, queued: 0, inflight: 0 });
    await r.service.stop();
  });

  it('the same across a restart of the service on a SQLite store', async () => {
    root = mkdtempSync(join(tmpdir(), 'vigil-mqtt-sess-'));
    const dir = join(root, 'data');
    const first = rig({ store: openStore('sqlite', dir) });
    await subscribeAndLeave(first);
    await publishAll(first);
    await first.service.stop();
    first.store.close();

    const second = rig({ store: openStore('sqlite', dir), startAt: first.clock.now() + 60_000 });
    // The subscription is routable again before the subscriber comes back.
    expect(second.service.broker.subscriptionCount('example.org')).toBe(1);
    const { present, payloads } = await resumeAndDrain(second);
    expect(present).toBe(true);
    expect(payloads).toEqual(expected);
    await second.service.stop();
    second.store.close();
  });

  it('a clean session 1 reconnect discards the stored session and its subscriptions', async () => {
    const r = rig();
    await subscribeAndLeave(r);
    expect(r.service.broker.subscriptionCount('example.org')).toBe(1);
    const again = r.client(4);
    const [ack] = await again.connect({ clean: true }, 'sub');
    expect(ack?.sessionPresent).toBe(false);
    expect(r.service.broker.subscriptionCount('example.org')).toBe(0);
    await r.service.stop();
  });
});

describe('acknowledgements of a persistent session wait for durability', () => {
  it('SUBACK (after the subscription is stored) comes before the retained message', async () => {
    const r = rig();
    const pub = r.client(4, '10.0.0.2');
    await pub.connect({}, 'pub');
    pub.send({ cmd: 'publish', topic: 'r/1', payload: Buffer.from('kept'), qos: 1, messageId: 1, retain: true, dup: false });
    await settle();
    const sub = r.client(4);
    await sub.connect({ clean: false }, 'sub');
    sub.send({ cmd: 'subscribe', messageId: 7, subscriptions: [{ topic: 'r/#', qos: 1 }] });
    await settle(8);
    expect(sub.received.map((p) => p.cmd)).toEqual(['suback', 'publish']);
    expect(r.store.sessions.load().find((s) => s.clientId === 'sub')?.subscriptions.map((s) => s.filter)).toEqual(['r/#']);
    await r.service.stop();
  });
});

describe('no acknowledgement before the store commit', () => {
  it('a PUBACK for a message queued for a persistent subscriber comes only after the commit, and never when it fails', async () => {
    const r = rig();
    await subscribeAndLeave(r);
    const commits: number[] = [];
    const repo = r.store.sessions as { apply: (ops: readonly unknown[]) => void };
    const apply = repo.apply.bind(repo);
    let fail = false;
    repo.apply = (ops) => {
      if (fail) throw new Error('disk full');
      apply(ops);
      commits.push(ops.length);
    };
    const pub = r.client(4, '10.0.0.2');
    await pub.connect({}, 'pub');
    pub.send({ cmd: 'publish', topic: 'q/1', payload: Buffer.from('a'), qos: 1, messageId: 1, retain: false, dup: false });
    await settle(8);
    expect(commits).toEqual([1]);
    expect(pub.take('puback').map((p) => p.messageId)).toEqual([1]);

    fail = true;
    pub.send({ cmd: 'publish', topic: 'q/1', payload: Buffer.from('b'), qos: 1, messageId: 2, retain: false, dup: false });
    await settle(8);
    expect(pub.take('puback')).toEqual([]);
    expect(pub.closed).toBe(true);
    repo.apply = apply;
    await r.service.stop();
  });
});

describe('inbound QoS 2 through the session', () => {
  it('past max_awaiting_rel: v3 PUBREC without routing, a duplicate acknowledged and not routed again; v5 has it as Receive Maximum (DISCONNECT 0x93)', async () => {
    const r = rig({ mqtt: { max_awaiting_rel: 1 } });
    const sub = r.client(5);
    await sub.connect({}, 'sub');
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'q2', qos: 0 }] });
    await settle();
    for (const version of [5, 4] as const) {
      const pub = r.client(version, '10.0.0.2');
      await pub.connect({}, `pub${version}`);
      const q2 = (messageId: number, dup = false) => pub.send({ cmd: 'publish', topic: 'q2', payload: Buffer.from(`${version}-${messageId}`), qos: 2, messageId, retain: false, dup });
      q2(1);
      q2(1, true);
      q2(2);
      await settle();
      expect(sub.take('publish').map((p) => p.payload.toString())).toEqual([`${version}-1`]);
      if (version === 5) {
        // The server's Receive Maximum is max_awaiting_rel (test/mqtt/receive-maximum.test.ts).
        expect(pub.take('pubrec').map((p) => [p.messageId, p.reasonCode ?? 0])).toEqual([[1, 0], [1, 0]]);
        expect(pub.take('disconnect').map((d) => d.reasonCode)).toEqual([0x93]);
        continue;
      }
      expect(pub.take('pubrec').map((p) => [p.messageId, p.reasonCode ?? 0])).toEqual([[1, 0], [1, 0], [2, 0]]);
      pub.send({ cmd: 'pubrel', messageId: 1 });
      await settle();
      expect(pub.take('pubcomp').map((p) => [p.messageId, p.reasonCode ?? 0])).toEqual([[1, 0]]);
    }
    await r.service.stop();
  });
});

describe('takeover of a persistent session', () => {
  it('moves the session to the new connection; the old connection closing later does not detach it', async () => {
    const r = rig();
    const a = r.client(5);
    await a.connect({ clean: false, properties: { sessionExpiryInterval: 600 } }, 'same');
    a.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't', qos: 1 }] });
    await settle(8);
    const b = r.client(5, '10.0.0.3');
    const [ack] = await b.connect({ clean: false, properties: { sessionExpiryInterval: 600 } }, 'same');
    expect(ack?.sessionPresent).toBe(true);
    await settle();
    expect(a.take('disconnect').map((p) => p.reasonCode)).toEqual([0x8e]);
    expect(r.service.broker.sessions.figures('example.org', 'same')).toMatchObject({ connected: true, subscriptions: 1 });
    const pub = r.client(5, '10.0.0.2');
    await pub.connect({}, 'pub');
    pub.send({ cmd: 'publish', topic: 't', payload: Buffer.from('x'), qos: 1, messageId: 1, retain: false, dup: false });
    await settle(8);
    expect(b.take('publish').map((p) => p.payload.toString())).toEqual(['x']);
    expect(a.take('publish')).toEqual([]);
    await r.service.stop();
  });
});
