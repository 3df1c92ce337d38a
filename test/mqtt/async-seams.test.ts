/**
 * The broker when its seams answer by promise, as a cluster's will (a claim under a fenced
 * generation, a will outbox record, a retained lookup in Redis): the client sees the same packets
 * in the same order as on one node, its pipelined packets wait for the answer, and a connection
 * that closes before the answer leaves nothing behind (src/mqtt/broker.ts, connection.ts).
 */
import { generate, type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import type { HostSeams, SeamFactory } from '../../src/mqtt/seams.js';
import { until } from '../support/until.js';
import { HOST, rig, settle, type RigOptions } from './harness.js';
import { Gate, promisedSeams } from './promised-seams.js';

/** A rig whose seams answer through `gate`, and the parts it built, by host. */
function gated(gate: Gate, opts: RigOptions = {}) {
  const parts = new Map<string, HostSeams>();
  const seams = (deps: Parameters<NonNullable<RigOptions['seams']>>[0]): SeamFactory => {
    const make = promisedSeams(deps, gate);
    return (ctx) => {
      const s = make(ctx);
      parts.set(ctx.host, s);
      return s;
    };
  };
  return { ...rig({ ...opts, seams }), parts };
}

const connect = (clientId: string, version: 4 | 5 = 4): Packet => ({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: version, clientId, clean: true, keepalive: 60 });

/** CONNECT, SUBSCRIBE and a QoS 1 PUBLISH to itself, in one write. */
const pipelined = Buffer.concat(
  [
    connect('pipe'),
    { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't/#', qos: 1 }] },
    { cmd: 'publish', topic: 't/a', payload: Buffer.from('x'), qos: 1, messageId: 9, retain: false, dup: false },
  ].map((p) => generate(p as Packet)),
);

const summary = (ps: Packet[]) => ps.map((p) => (p.cmd === 'publish' ? `publish ${p.topic} q${p.qos}${p.retain ? ' r' : ''}` : p.cmd));

describe('the broker with seams that answer by promise', () => {
  it('holds pipelined packets until the claim and the will record are answered, then answers as one node does', async () => {
    const local = rig();
    const one = local.client(4);
    one.raw(pipelined);
    await settle();

    const gate = new Gate(false);
    const r = gated(gate);
    const c = r.client(4);
    c.raw(pipelined);
    await settle();
    expect(c.received).toEqual([]);
    expect(gate.held).toBe(1); // the claim
    gate.open();
    await settle();
    expect(summary(c.received)).toEqual(summary(one.received));
    expect(summary(c.received)).toEqual(['connack', 'suback', 'publish t/a q1', 'puback']);
    expect(r.parts.get(HOST)!.clients.local.get('pipe')).toBeDefined();
  });

  it('a CONNECT whose password is checked on the pool, then claimed by promise: input stays held through both', async () => {
    const gate = new Gate(false);
    const r = gated(gate);
    r.addUser(HOST, 'alice', 'secret');
    const c = r.client(4);
    const withPassword = generate({ ...connect('pw'), username: 'alice', password: Buffer.from('secret') } as Packet);
    c.raw(Buffer.concat([withPassword, pipelined.subarray(generate(connect('pipe')).length)]));
    await until(() => gate.held === 1); // the PBKDF2 answered, the claim is out
    await settle();
    expect(c.received).toEqual([]);
    gate.open();
    await settle();
    expect(summary(c.received)).toEqual(['connack', 'suback', 'publish t/a q1', 'puback']);
  });

  it('a connection that closes while its claim is out gives the claim back and leaves no session or presence', async () => {
    const gate = new Gate(false);
    const r = gated(gate);
    const c = r.client(4);
    c.send(connect('gone'));
    await settle();
    c.drop();
    await settle();
    gate.open();
    await settle();
    const clients = r.parts.get(HOST)!.clients;
    expect(clients.local.get('gone')).toBeUndefined();
    expect(clients.local.size).toBe(0);
    expect(r.service.broker.sessions.figures(HOST, 'gone')).toBeUndefined();
    expect(r.service.broker.connectionCount).toBe(0);
    expect(r.presence.count(HOST, 'mqtt', 'online')).toBe(0);
  });

  it('a takeover waits for the claim: the old connection stays until then, and then gets DISCONNECT 0x8E [MQTT-3.1.4-2/3]', async () => {
    const gate = new Gate();
    const r = gated(gate);
    const first = r.client(5);
    await first.connect({}, 'same');
    gate.close();
    const second = r.client(5);
    second.send(connect('same', 5));
    await settle();
    expect(first.closed).toBe(false);
    expect(second.received).toEqual([]);
    gate.open();
    await settle();
    expect(second.take('connack')[0]).toMatchObject({ reasonCode: 0 });
    expect(first.take('disconnect')[0]).toMatchObject({ reasonCode: 0x8e });
    expect(first.closed).toBe(true);
    expect(r.parts.get(HOST)!.clients.local.size).toBe(1);
  });

  it('a limit refusing the claim by promise answers CONNACK 3 and closes', async () => {
    const gate = new Gate();
    const r = gated(gate, { mqtt: { max_connections: 1 } });
    await r.client(4).connect({}, 'a');
    const b = r.client(4);
    const [ack] = await b.connect({}, 'b');
    expect(ack).toMatchObject({ returnCode: 3 });
    expect(b.closed).toBe(true);
    expect(r.parts.get(HOST)!.clients.local.size).toBe(1);
  });

  it('retained messages answered by promise follow the SUBACK; an answer after the close is dropped', async () => {
    const gate = new Gate();
    const r = gated(gate);
    const pub = r.client(4);
    await pub.connect({}, 'pub');
    pub.send({ cmd: 'publish', topic: 'a/b', payload: Buffer.from('kept'), qos: 0, retain: true, dup: false });
    const sub = r.client(4);
    await sub.connect({}, 'sub');
    gate.close();
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/#', qos: 0 }] });
    await settle();
    expect(summary(sub.received)).toEqual(['suback']);
    gate.open();
    await settle();
    expect(summary(sub.received)).toEqual(['suback', 'publish a/b q0 r']);

    // A persistent session whose connection closed before the answer: nothing is queued for it.
    pub.send({ cmd: 'publish', topic: 'a/c', payload: Buffer.from('kept'), qos: 1, messageId: 3, retain: true, dup: false });
    const late = r.client(4);
    await late.connect({ clean: false }, 'late');
    gate.close();
    late.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/#', qos: 1 }] });
    await settle();
    late.drop();
    await settle();
    gate.open();
    await settle();
    expect(summary(late.received)).toEqual(['suback']);
    const back = r.client(4);
    expect((await back.connect({ clean: false }, 'late'))[0]).toMatchObject({ sessionPresent: true });
    await settle();
    expect(summary(back.received)).toEqual([]);
  });
});
