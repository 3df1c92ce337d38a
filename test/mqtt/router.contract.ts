/**
 * One contract for every Router (src/mqtt/router.ts): who gets a published message, at which QoS,
 * with which RETAIN flag and Subscription Identifiers, and by which way (the connection for QoS 0
 * to a client connected here, its session otherwise). Each suite file calls `routerContract` with
 * a factory; `settle` lets an implementation that delivers later catch up (the local one: none).
 */
import { describe, expect, it } from 'vitest';
import type { SubOptions } from '../../src/mqtt/channel-session.js';
import type { EncodeCache } from '../../src/mqtt/deliver.js';
import type { Delivery, Message } from '../../src/mqtt/message.js';
import type { Router, RouterDeps, Subscriber } from '../../src/mqtt/router.js';
import type { SharedStrategy } from '../../src/mqtt/shared-strategy.js';

export const ROUTER_HOST = 'example.org';

export interface RouterFixture {
  router: Router;
  settle(): Promise<void>;
}

export type MakeRouter = (deps: RouterDeps) => RouterFixture;

/** A connected client as the router sees it: records its QoS 0 deliveries and the cache each came with. */
class FakeSubscriber implements Subscriber {
  readonly got: { d: Delivery; cache: EncodeCache | null }[] = [];
  connected: object | null = {};
  deliverQos0(d: Delivery, cache: EncodeCache | null): void {
    this.got.push({ d, cache });
  }
}

const opts = (over: Partial<SubOptions> = {}): SubOptions => ({ qos: 0, nl: false, rap: false, rh: 0, subId: null, ...over });

const message = (topic: string, over: Partial<Message> = {}): Message => ({
  topic,
  payload: Buffer.from('x'),
  qos: 0,
  retain: false,
  properties: null,
  expiresAt: null,
  senderId: 'pub',
  ...over,
});

function world(make: MakeRouter) {
  const online = new Map<string, FakeSubscriber>();
  const sessions: { host: string; clientId: string; d: Delivery }[] = [];
  const strategy: { value: SharedStrategy } = { value: 'round_robin' };
  const shared: string[] = [];
  const f = make({
    host: ROUTER_HOST,
    online,
    sessions: { deliver: (host, clientId, d) => sessions.push({ host, clientId, d }) },
    nowMs: () => 1_000,
    strategy: () => strategy.value,
    sharedDelivered: (g) => shared.push(g),
  });
  const connect = (id: string) => {
    const s = new FakeSubscriber();
    online.set(id, s);
    return s;
  };
  return { ...f, online, sessions, connect, strategy, shared };
}

export function routerContract(name: string, make: MakeRouter): void {
  describe(`Router contract: ${name}`, () => {
    it('QoS 0 to a client connected here goes to its connection; QoS 1/2 and offline clients to the session', async () => {
      const w = world(make);
      const a = w.connect('a');
      w.router.subscribe('a', 't', opts({ qos: 1 }));
      w.router.subscribe('off', 't', opts({ qos: 0 }));
      w.router.publish(message('t'));
      w.router.publish(message('t', { qos: 1 }));
      await w.settle();
      expect(a.got.map((g) => g.d.qos)).toEqual([0]);
      expect(w.sessions.map((s) => [s.clientId, s.d.qos])).toEqual([
        ['off', 0],
        ['a', 1],
        ['off', 0],
      ]);
      expect(w.sessions.every((s) => s.host === ROUTER_HOST)).toBe(true);
    });

    it('delivers at min(message QoS, granted QoS), with the message itself', async () => {
      const w = world(make);
      w.router.subscribe('a', 't', opts({ qos: 1 }));
      const m = message('t', { qos: 2 });
      w.router.publish(m);
      await w.settle();
      expect(w.sessions[0]!.d).toEqual({ msg: m, qos: 1, retain: false, subIds: null });
    });

    it('a client connected here that is not connected any more gets QoS 0 through its session', async () => {
      const w = world(make);
      w.connect('a').connected = null;
      w.router.subscribe('a', 't', opts());
      w.router.publish(message('t'));
      await w.settle();
      expect(w.online.get('a')!.got).toEqual([]);
      expect(w.sessions.map((s) => s.clientId)).toEqual(['a']);
    });

    it('No Local: never back to the publisher [MQTT-3.8.3-3]; others still get it', async () => {
      const w = world(make);
      const pub = w.connect('pub');
      const other = w.connect('other');
      w.router.subscribe('pub', 't', opts({ nl: true }));
      w.router.subscribe('other', 't', opts({ nl: true }));
      w.router.publish(message('t'));
      await w.settle();
      expect(pub.got).toEqual([]);
      expect(other.got).toHaveLength(1);
    });

    it('Retain As Published keeps RETAIN, otherwise it is cleared [MQTT-3.3.1-12/13]', async () => {
      const w = world(make);
      const keep = w.connect('keep');
      const clear = w.connect('clear');
      w.router.subscribe('keep', 't', opts({ rap: true }));
      w.router.subscribe('clear', 't', opts());
      w.router.publish(message('t', { retain: true }));
      await w.settle();
      expect(keep.got[0]!.d.retain).toBe(true);
      expect(clear.got[0]!.d.retain).toBe(false);
    });

    it('overlapping subscriptions of one client: one delivery at the highest QoS with every Subscription Identifier [MQTT-3.3.4-3]', async () => {
      const w = world(make);
      w.router.subscribe('a', 'x/#', opts({ qos: 0, subId: 1 }));
      w.router.subscribe('a', 'x/+', opts({ qos: 2, subId: 2 }));
      w.router.subscribe('a', 'x/y', opts({ qos: 1 }));
      w.router.publish(message('x/y', { qos: 2 }));
      await w.settle();
      expect(w.sessions).toHaveLength(1);
      expect(w.sessions[0]!.d.qos).toBe(2);
      expect([...w.sessions[0]!.d.subIds!].sort()).toEqual([1, 2]);
    });

    it('wildcards match by level; $-topics are not matched by + or # at the first level [MQTT-4.7.2-1]', async () => {
      const w = world(make);
      const subs = { hash: '#', plus: '+/b', deep: 'a/#', sys: '$SYS/#', exact: 'a/b/c' };
      for (const [id, filter] of Object.entries(subs)) {
        w.connect(id);
        w.router.subscribe(id, filter, opts());
      }
      const who = async (topic: string) => {
        for (const s of w.online.values()) s.got.length = 0;
        w.router.publish(message(topic));
        await w.settle();
        return [...w.online].filter(([, s]) => s.got.length > 0).map(([id]) => id).sort();
      };
      expect(await who('a/b')).toEqual(['deep', 'hash', 'plus']);
      expect(await who('a')).toEqual(['deep', 'hash']);
      expect(await who('a/b/c')).toEqual(['deep', 'exact', 'hash']);
      expect(await who('$SYS/load')).toEqual(['sys']);
    });

    it('a new SUBSCRIBE to the same filter replaces the options [MQTT-3.8.4-3]; UNSUBSCRIBE ends the delivery', async () => {
      const w = world(make);
      w.router.subscribe('a', 't', opts({ qos: 0 }));
      w.router.subscribe('a', 't', opts({ qos: 1 }));
      expect(w.router.size).toBe(1);
      w.router.publish(message('t', { qos: 1 }));
      await w.settle();
      expect(w.sessions.map((s) => s.d.qos)).toEqual([1]);
      w.router.unsubscribe('a', 't');
      expect(w.router.size).toBe(0);
      w.router.publish(message('t', { qos: 1 }));
      await w.settle();
      expect(w.sessions).toHaveLength(1);
    });

    it('the QoS 0 deliveries of one publish share one encoding cache', async () => {
      const w = world(make);
      const subs = ['a', 'b', 'c'].map((id) => {
        w.router.subscribe(id, 't', opts());
        return w.connect(id);
      });
      w.router.publish(message('t'));
      w.router.publish(message('t'));
      await w.settle();
      const caches = subs.map((s) => s.got.map((g) => g.cache));
      expect(caches.every((c) => c.length === 2 && c[0] !== null && c[0] !== c[1])).toBe(true);
      expect(new Set(caches.map((c) => c[0])).size).toBe(1);
    });
    it('shared subscriptions: one delivery per group, members in turn (round_robin), beside a non-shared copy [MQTT 5.0 §4.8.2]', async () => {
      const w = world(make);
      for (const id of ['w1', 'w2', 'w3']) {
        w.connect(id);
        w.router.subscribe(id, '$share/g/jobs/+', opts({ qos: 1, subId: id === 'w2' ? 7 : null }));
      }
      w.router.subscribe('w1', 'jobs/#', opts({ qos: 1 })); // w1's own copy besides the group's
      w.router.subscribe('x', '$share/other/jobs/+', opts({ qos: 1 }));
      expect(w.router.size).toBe(5);
      for (let i = 0; i < 6; i++) w.router.publish(message('jobs/a', { qos: 1 }));
      await w.settle();
      const byGroup = (g: string) => w.sessions.filter((s) => s.d.share === g).map((s) => s.clientId);
      expect(byGroup('$share/g/jobs/+')).toEqual(['w1', 'w2', 'w3', 'w1', 'w2', 'w3']);
      expect(byGroup('$share/other/jobs/+')).toEqual(['x', 'x', 'x', 'x', 'x', 'x']);
      expect(w.sessions.filter((s) => s.d.share === undefined).map((s) => s.clientId)).toEqual(Array(6).fill('w1'));
      expect(w.sessions.find((s) => s.clientId === 'w2')!.d.subIds).toEqual([7]); // per member [MQTT-3.3.4-3]
      expect(w.shared.filter((g) => g === '$share/g/jobs/+')).toHaveLength(6);
    });

    it('shared subscriptions: members connected here first; sticky keeps one; hash_clientid by publisher; a leaving member hands its messages on', async () => {
      const w = world(make);
      w.connect('on1');
      w.connect('on2');
      for (const id of ['off', 'on1', 'on2']) w.router.subscribe(id, '$share/g/t', opts({ qos: 1 }));
      for (let i = 0; i < 4; i++) w.router.publish(message('t', { qos: 1 }));
      await w.settle();
      expect(w.sessions.map((s) => s.clientId)).not.toContain('off');
      w.sessions.length = 0;
      w.strategy.value = 'sticky';
      for (let i = 0; i < 3; i++) w.router.publish(message('t', { qos: 1 }));
      await w.settle();
      expect(new Set(w.sessions.map((s) => s.clientId)).size).toBe(1);
      w.sessions.length = 0;
      w.strategy.value = 'hash_clientid';
      for (let i = 0; i < 3; i++) w.router.publish(message('t', { qos: 1, senderId: 'p1' }));
      await w.settle();
      expect(new Set(w.sessions.map((s) => s.clientId)).size).toBe(1);
      const held = w.sessions.map((s) => s.d);
      const leaver = w.sessions[0]!.clientId;
      w.sessions.length = 0;
      w.router.unsubscribe(leaver, '$share/g/t');
      w.router.redeliver(leaver, held);
      await w.settle();
      expect(w.sessions).toHaveLength(3);
      expect(w.sessions.every((s) => s.clientId !== leaver && s.clientId !== 'off')).toBe(true);
      for (const id of ['off', 'on1', 'on2']) w.router.unsubscribe(id, '$share/g/t');
      expect(w.router.size).toBe(0);
    });
  });
}
