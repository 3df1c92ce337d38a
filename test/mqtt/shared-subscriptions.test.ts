/**
 * Issue 12 item 5: shared subscriptions `$share/{ShareName}/{filter}` (MQTT 5.0 §4.8.2), spoken at
 * packet level: one delivery per group, members of both protocol versions, no retained messages on
 * subscribe, No Local refused [MQTT-3.8.3-4], ShareName rules [MQTT-4.8.2-1/2], the ACL on the
 * filter without the prefix, a leaving member's unacknowledged messages to another member, per
 * group counts in /metrics, and the group kept by a persistent session across a restart.
 */
import type { Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/store/memory.js';
import { rig, settle } from './harness.js';

const pub = (topic: string, i: number, qos: 0 | 1 = 1, retain = false): Packet => ({ cmd: 'publish', topic, payload: Buffer.from(`m${i}`), qos, retain, dup: false, messageId: i + 1 });
const sub = (topic: string, extra: Record<string, unknown> = {}, messageId = 1): Packet => ({ cmd: 'subscribe', messageId, subscriptions: [{ topic, qos: 1, ...extra }] }) as Packet;

describe('shared subscriptions', () => {
  it('CONNACK does not deny them; a group of three (v5 and 3.1.1) shares the messages, one each, in turn; no retained message on subscribe', async () => {
    const r = rig({ mqtt: { max_connection_rate_per_ip: 0 } });
    const p = r.client(5, '10.0.0.9');
    const [ack] = await p.connect({}, 'pub');
    expect(ack?.properties?.sharedSubscriptionAvailable).not.toBe(false);
    p.send(pub('jobs/old', 99, 1, true)); // retained before anyone subscribes
    const members = [r.client(5), r.client(4), r.client(5)];
    for (const [i, m] of members.entries()) {
      await m.connect({}, `w${i}`);
      m.send(sub('$share/workers/jobs/#'));
    }
    await settle();
    for (const m of members) expect(m.take('suback')[0]?.granted).toEqual([1]);
    for (let i = 0; i < 6; i++) p.send(pub('jobs/a', i));
    await settle();
    const got = members.map((m) => m.take('publish').map((x) => x.payload.toString()));
    expect(got).toEqual([
      ['m0', 'm3'],
      ['m1', 'm4'],
      ['m2', 'm5'],
    ]);
    const text = await r.deps.metrics.registry.getSingleMetricAsString('vigil_mqtt_shared_deliveries_total');
    expect(text).toContain('group="$share/workers/jobs/#"} 6');
  });

  it('No Local on a shared subscription is a Protocol Error: DISCONNECT 0x82 [MQTT-3.8.3-4]', async () => {
    const r = rig();
    const c = r.client(5);
    await c.connect({}, 'nl');
    c.send(sub('$share/g/t', { nl: true }));
    await settle();
    expect(c.take('disconnect').map((d) => d.reasonCode)).toEqual([0x82]);
    expect(c.closed).toBe(true);
  });

  it('a ShareName that is empty or holds a wildcard, or no filter after it: 0x8F [MQTT-4.8.2-1/2]; the ACL checks the filter without the prefix', async () => {
    const r = rig({ mqtt: { acl: [{ permission: 'deny', action: 'subscribe', topic: 'secret/#' }] } });
    const c = r.client(5);
    await c.connect({}, 'bad');
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: ['$share//t', '$share/a+b/t', '$share/g', '$share/g/secret/x', '$share/g/open/x'].map((topic) => ({ topic, qos: 1 as const })) });
    await settle();
    expect(c.take('suback')[0]?.granted).toEqual([0x8f, 0x8f, 0x8f, 0x87, 1]);
  });

  it("a member's clean session ends with messages unacknowledged: another member gets them", async () => {
    const r = rig({ mqtt: { max_connection_rate_per_ip: 0 } });
    const a = r.client(4);
    const b = r.client(4);
    await a.connect({}, 'a');
    await b.connect({}, 'b');
    a.send(sub('$share/g/t'));
    b.send(sub('$share/g/t'));
    await settle();
    const p = r.client(4, '10.0.0.9');
    await p.connect({}, 'pub');
    for (let i = 0; i < 4; i++) p.send(pub('t', i));
    await settle();
    expect(a.take('publish').map((x) => x.payload.toString())).toEqual(['m0', 'm2']); // never acknowledged
    for (const x of b.take('publish')) b.send({ cmd: 'puback', messageId: x.messageId! });
    a.drop();
    await settle();
    expect(b.take('publish').map((x) => x.payload.toString())).toEqual(['m0', 'm2']);
  });

  it('a persistent member keeps its shared subscription across a restart', async () => {
    const store = createMemoryStore();
    const first = rig({ store });
    const m = first.client(4);
    await m.connect({ clean: false }, 'keeper');
    m.send(sub('$share/g/t'));
    await settle();
    first.service.broker.shutdown();
    const again = rig({ store });
    const p = again.client(4, '10.0.0.9');
    await p.connect({}, 'pub');
    p.send(pub('t', 1));
    await settle();
    expect(again.service.broker.sessions.figures('example.org', 'keeper')?.queued).toBe(1);
  });
});
