/**
 * One contract for every WillScheduler (src/mqtt/wills.ts): when a will is published, delayed,
 * cancelled or dropped, and what the published message is. Time is a ManualScheduler; `settle`
 * lets an implementation that publishes later catch up, and `opened` is awaited (a cluster records
 * the will in its outbox first). Each suite file calls `willsContract` with a factory.
 */
import { describe, expect, it } from 'vitest';
import { compileAcl } from '../../src/mqtt/acl.js';
import type { Will } from '../../src/mqtt/channel.js';
import type { Message } from '../../src/mqtt/message.js';
import type { WillDeps, WillOwner, WillScheduler } from '../../src/mqtt/wills.js';
import { ManualScheduler } from '../../src/time/manual.js';

export interface WillsFixture {
  wills: WillScheduler;
  settle(): Promise<void>;
}

export type MakeWills = (deps: WillDeps) => WillsFixture;

const will = (over: Partial<Will> = {}): Will => ({ topic: 'status/c1', payload: Buffer.from('gone'), qos: 1, retain: true, properties: null, delayS: 0, expiryS: null, ...over });
const owner = (w: Will | null, over: Partial<WillOwner> = {}): WillOwner => ({ clientId: 'c1', username: 'alice', will: w, sessionExpiryS: 3600, ...over });

function world(make: MakeWills, acl = compileAcl([], 'allow')) {
  const scheduler = new ManualScheduler();
  const published: Message[] = [];
  let denied = 0;
  const f = make({ policy: { acl }, scheduler, nowMs: () => scheduler.clock.now(), publish: (m) => published.push(m), aclDenied: () => denied++ });
  return {
    ...f,
    scheduler,
    published,
    denied: () => denied,
    async advance(ms: number) {
      scheduler.advance(ms);
      await f.settle();
    },
  };
}

export function willsContract(name: string, make: MakeWills): void {
  describe(`WillScheduler contract: ${name}`, () => {
    it('a close without DISCONNECT publishes the will at once, as the client would have [MQTT-3.1.2-8]', async () => {
      const w = world(make);
      await w.wills.opened(owner(will({ expiryS: 30 })));
      w.wills.closed(owner(will({ expiryS: 30 })), 'socket_error', true);
      await w.settle();
      expect(w.published).toEqual([
        { topic: 'status/c1', payload: Buffer.from('gone'), qos: 1, retain: true, properties: null, expiresAt: w.scheduler.clock.now() + 30_000, senderId: 'c1' },
      ]);
    });

    it('a normal DISCONNECT drops the will [MQTT-3.1.2-10]; no will, nothing', async () => {
      const w = world(make);
      w.wills.closed(owner(will()), 'client_close', false);
      w.wills.closed(owner(null), 'socket_error', true);
      await w.advance(10_000);
      expect(w.published).toEqual([]);
    });

    it('Will Delay Interval: published after the delay, or at the end of a shorter session (v5 §3.1.3.2.2)', async () => {
      const w = world(make);
      w.wills.closed(owner(will({ delayS: 10 })), 'keepalive_timeout', true);
      w.wills.closed(owner(will({ delayS: 10, topic: 'short' }), { clientId: 'c2', sessionExpiryS: 2 }), 'keepalive_timeout', true);
      expect(w.wills.pending).toBe(2);
      await w.advance(1_999);
      expect(w.published).toEqual([]);
      await w.advance(1);
      expect(w.published.map((m) => m.topic)).toEqual(['short']);
      await w.advance(8_000);
      expect(w.published.map((m) => m.topic)).toEqual(['short', 'status/c1']);
      expect(w.wills.pending).toBe(0);
    });

    it('the client id connecting again within the delay cancels the delayed will [MQTT-3.1.3-9]', async () => {
      const w = world(make);
      w.wills.closed(owner(will({ delayS: 5 })), 'socket_error', true);
      await w.advance(4_000);
      await w.wills.opened(owner(null));
      await w.advance(10_000);
      expect(w.published).toEqual([]);
      expect(w.wills.pending).toBe(0);
    });

    it('a takeover publishes a will without delay and keeps a delayed one (the session lives on) [MQTT-3.1.3-9]', async () => {
      const w = world(make);
      w.wills.closed(owner(will({ delayS: 5 })), 'taken_over', true);
      w.wills.closed(owner(will({ topic: 'now' }), { clientId: 'c2' }), 'taken_over', true);
      await w.advance(10_000);
      expect(w.published.map((m) => m.topic)).toEqual(['now']);
    });

    it('a will the ACL denies is not published, and counted', async () => {
      const acl = compileAcl([{ permission: 'deny', action: 'publish', topic: 'status/#', username: '*', client_id: '*' }], 'allow');
      const w = world(make, acl);
      w.wills.closed(owner(will()), 'socket_error', true);
      await w.settle();
      expect(w.published).toEqual([]);
      expect(w.denied()).toBe(1);
    });

    it('shutdown cancels the delayed wills', async () => {
      const w = world(make);
      w.wills.closed(owner(will({ delayS: 5 })), 'socket_error', true);
      w.wills.shutdown();
      await w.advance(10_000);
      expect(w.published).toEqual([]);
      expect(w.wills.pending).toBe(0);
    });
  });
}
