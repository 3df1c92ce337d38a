import { describe, expect, it } from 'vitest';
import { HOST, rig, settle } from './harness.js';

const key = (id: string) => ({ host: HOST, transport: 'mqtt' as const, id });

describe('keepalive liveness', () => {
  it('closes a silent client 1.5 x keepalive after its last packet [MQTT-3.1.2-24], v5 DISCONNECT 0x8D, will published', async () => {
    const r = rig();
    const sub = r.client(4);
    await sub.connect({ keepalive: 0 }, 'sub');
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'will', qos: 0 }] });
    const c = r.client(5);
    await c.connect({ keepalive: 2, will: { topic: 'will', payload: Buffer.from('lost'), qos: 0, retain: false } });
    await r.advance(2_000);
    c.send({ cmd: 'pingreq' });
    await settle();
    expect(c.take('pingresp')).toHaveLength(1);
    await r.advance(2_999);
    expect(c.closed).toBe(false);
    await r.advance(1);
    expect(c.closed).toBe(true);
    expect(c.take('disconnect')[0]?.reasonCode).toBe(0x8d);
    expect(sub.take('publish').map((p) => p.payload.toString())).toEqual(['lost']);
    expect(r.presence.get(key('c1'))?.last_disconnect_reason).toBe('keepalive_timeout');
    expect(sub.closed).toBe(false);
  });

  it('presence shows the keepalive deadline (last packet + 1.5 x keepalive) and session figures', async () => {
    const r = rig();
    const c = r.client(4);
    await c.connect({ keepalive: 10 });
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a', qos: 1 }] });
    await r.advance(4_000);
    c.send({ cmd: 'pingreq' });
    await settle();
    const row = r.presence.get(key('c1'))!;
    expect(row.next_deadline_at).toBe(row.last_activity_at + 15_000);
    expect(row.last_activity_at).toBe(r.clock.now());
    expect(row.meta).toMatchObject({ subscriptions: 1, inflight: 0, queued: 0, dropped: 0, awaiting_rel: 0, window: 64, persistent: false, connected: true });
  });

  it('keepalive 0 never times out', async () => {
    const r = rig();
    const c = r.client(4);
    await c.connect({ keepalive: 0 });
    await r.advance(10 * 3_600_000);
    expect(c.closed).toBe(false);
  });

  it('timeout_action none reports ping_timeout and keeps the connection', async () => {
    const r = rig({ ping: { timeout_action: 'none' } });
    const c = r.client(4);
    await c.connect({ keepalive: 4 });
    await r.advance(6_000);
    expect(c.closed).toBe(false);
    expect(r.events.some((e) => e.type === 'ping_timeout')).toBe(true);
  });

  it('mqtt_probe pingreq: the server sends PINGREQ after ping_interval, PINGRESP answers it', async () => {
    const r = rig({ ping: { mqtt_probe: 'pingreq', ping_interval: 10, ping_ack_timeout: 5 } });
    const c = r.client(4);
    await c.connect({ keepalive: 0 });
    expect(r.liveness.get(key('c1'))?.state).toBe('active');
    await r.advance(10_000);
    expect(c.take('pingreq')).toHaveLength(1);
    c.send({ cmd: 'pingresp' });
    await settle();
    expect(r.liveness.get(key('c1'))?.state).toBe('active');
    await r.advance(10_000);
    expect(c.take('pingreq')).toHaveLength(1);
    await r.advance(5_000);
    expect(c.closed).toBe(true);
  });

  it('ping-now is refused with a reason while mqtt_probe is keepalive, and switches live on host_config', async () => {
    const r = rig();
    const c = r.client(4);
    await c.connect({ keepalive: 0 });
    const h = r.liveness.get(key('c1'))!;
    expect((await h.probeNow()).kind).toBe('unprobeable');
    r.liveness.setHostConfig(HOST, { mqtt_probe: 'pingreq', ping_interval: 5 });
    await r.advance(5_000);
    expect(c.take('pingreq')).toHaveLength(1);
  });

  it('switching mqtt_probe back to keepalive restores the 1.5 x keepalive deadline', async () => {
    const r = rig({ ping: { mqtt_probe: 'pingreq', ping_interval: 100 } });
    const c = r.client(4);
    await c.connect({ keepalive: 2 });
    await r.advance(5_000);
    expect(c.closed).toBe(false); // probing after ping_interval only
    r.liveness.setHostConfig(HOST, { mqtt_probe: 'keepalive' });
    await r.advance(3_000);
    expect(c.closed).toBe(true);
    expect(r.presence.get(key('c1'))?.last_disconnect_reason).toBe('keepalive_timeout');
  });

  it('a kick (REST) sends v5 DISCONNECT 0x98 and publishes the will', async () => {
    const r = rig();
    const c = r.client(5);
    await c.connect({ will: { topic: 'w', payload: Buffer.from('k'), qos: 0, retain: true } });
    r.liveness.get(key('c1'))!.kill('kicked');
    await settle();
    expect(c.take('disconnect')[0]?.reasonCode).toBe(0x98);
    expect(c.closed).toBe(true);
    expect(r.store.retained.count(HOST)).toBe(1);
    expect(r.presence.get(key('c1'))?.last_disconnect_reason).toBe('kicked');
  });

  it('shutdown closes every client with 0x8B and no will', async () => {
    const r = rig();
    const c = r.client(5);
    await c.connect({ will: { topic: 'w', payload: Buffer.from('k'), qos: 0, retain: true } });
    await r.service.stop();
    await settle();
    expect(c.take('disconnect')[0]?.reasonCode).toBe(0x8b);
    expect(r.store.retained.count(HOST)).toBe(0);
    expect(r.presence.get(key('c1'))?.last_disconnect_reason).toBe('shutdown');
  });
});

describe('takeover and wills', () => {
  it('a second CONNECT with the same id closes the first (v5 0x8E), publishes its will, presence stays online', async () => {
    const r = rig();
    const sub = r.client(4);
    await sub.connect({}, 'sub');
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'w', qos: 0 }] });
    const first = r.client(5);
    await first.connect({ will: { topic: 'w', payload: Buffer.from('first'), qos: 0, retain: false } }, 'dev');
    const seqBefore = r.presence.lastSeq();
    const second = r.client(4);
    expect((await second.connect({}, 'dev'))[0]?.returnCode).toBe(0);
    await settle();
    expect(first.take('disconnect')[0]?.reasonCode).toBe(0x8e);
    expect(first.closed).toBe(true);
    expect(second.closed).toBe(false);
    expect(sub.take('publish').map((p) => p.payload.toString())).toEqual(['first']);
    const feed = r.presence.readFeed(seqBefore, 100);
    expect(feed.kind === 'ok' && feed.entries.some((e) => e.kind === 'offline')).toBe(false);
    expect(r.presence.get(key('dev'))?.state).toBe('online');
    // The new connection still works.
    second.send({ cmd: 'pingreq' });
    await settle();
    expect(second.take('pingresp')).toHaveLength(1);
  });

  it('publishes the will on an abrupt close, not after DISCONNECT', async () => {
    const r = rig();
    const sub = r.client(4);
    await sub.connect({}, 'sub');
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'w/+', qos: 1 }] });
    const a = r.client(4);
    await a.connect({ will: { topic: 'w/a', payload: Buffer.from('a'), qos: 1, retain: false } }, 'a');
    const b = r.client(4);
    await b.connect({ will: { topic: 'w/b', payload: Buffer.from('b'), qos: 1, retain: false } }, 'b');
    b.send({ cmd: 'disconnect' });
    a.drop();
    await settle();
    expect(sub.take('publish').map((p) => p.payload.toString())).toEqual(['a']);
    expect(r.presence.get(key('a'))?.last_disconnect_reason).toBe('socket_error');
    expect(r.presence.get(key('b'))?.last_disconnect_reason).toBe('client_close');
  });

  it('v5 will delay: published after the delay, cancelled by a reconnect [MQTT-3.1.3-9]', async () => {
    const r = rig();
    const sub = r.client(4);
    await sub.connect({}, 'sub');
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'w', qos: 0 }] });
    const will = { topic: 'w', payload: Buffer.from('late'), qos: 0 as const, retain: false, properties: { willDelayInterval: 5 } };
    const a = r.client(5);
    await a.connect({ clean: false, properties: { sessionExpiryInterval: 60 }, will }, 'a');
    a.drop();
    await settle();
    await r.advance(4_000);
    expect(sub.take('publish')).toHaveLength(0);
    await r.advance(1_000);
    expect(sub.take('publish').map((p) => p.payload.toString())).toEqual(['late']);

    const b = r.client(5);
    await b.connect({ clean: false, properties: { sessionExpiryInterval: 60 }, will }, 'b');
    b.drop();
    await settle();
    await r.advance(2_000);
    const b2 = r.client(5);
    await b2.connect({ clean: false, properties: { sessionExpiryInterval: 60 } }, 'b');
    await r.advance(10_000);
    expect(sub.take('publish')).toHaveLength(0);
  });

  it('v5 Session Expiry set to 0 in DISCONNECT ends the session (5.0 §3.14.2.2.2)', async () => {
    const r = rig();
    const opts = { clean: false, properties: { sessionExpiryInterval: 300 } };
    const a = r.client(5);
    await a.connect(opts, 's');
    a.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't', qos: 1 }] });
    a.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
    await settle();
    expect(r.service.broker.subscriptionCount(HOST)).toBe(0);
    const b = r.client(5);
    expect((await b.connect(opts, 's'))[0]?.sessionPresent).toBe(false);
  });

  it('v5 session present and subscriptions kept for a resumed session; redelivers unacked QoS 1 with DUP', async () => {
    const r = rig();
    const sub = r.client(5);
    const opts = { clean: false, properties: { sessionExpiryInterval: 300 } };
    expect((await sub.connect(opts, 's'))[0]?.sessionPresent).toBe(false);
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't', qos: 1 }] });
    const pub = r.client(4);
    await pub.connect({}, 'pub');
    pub.send({ cmd: 'publish', topic: 't', payload: Buffer.from('m'), qos: 1, messageId: 1, retain: false, dup: false });
    await settle();
    const [first] = sub.take('publish');
    sub.drop();
    await settle();
    const again = r.client(5);
    expect((await again.connect(opts, 's'))[0]?.sessionPresent).toBe(true);
    await settle();
    const [re] = again.take('publish');
    expect(re).toMatchObject({ dup: true, messageId: first!.messageId });
    pub.send({ cmd: 'publish', topic: 't', payload: Buffer.from('n'), qos: 0, retain: false, dup: false });
    await settle();
    expect(again.take('publish').map((p) => p.payload.toString())).toEqual(['n']);
  });
});
