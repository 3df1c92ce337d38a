/** The pure channel: dispatch(state, packet, env, session, nowMs) -> { next, effects }, no I/O. */
import { describe, expect, it } from 'vitest';
import { compileAcl } from '../../src/mqtt/acl.js';
import type { ChannelEnv, Connected } from '../../src/mqtt/channel.js';
import { dispatch } from '../../src/mqtt/handlers/index.js';
import { hostPolicy } from '../../src/mqtt/host-policy.js';
import type { Delivery } from '../../src/mqtt/message.js';
import type { SubOptions } from '../../src/mqtt/channel-session.js';
import { SessionService } from '../../src/mqtt-session/session-service.js';
import { DEFAULT_LIMITS } from '../../src/mqtt-session/limits.js';
import { ManualScheduler } from '../../src/time/manual.js';
import { defaults } from '../../src/config/dsl.js';
import { mqttSchema } from '../../src/config/schema/mqtt.js';

const policy = hostPolicy('h', { ...defaults(mqttSchema), allow_anonymous: true });
const env: ChannelEnv = { resolveHost: (u) => ({ policy, user: u }), authenticate: () => false, newClientId: () => 'assigned' };
const connected = (version: 4 | 5): Connected => ({
  phase: 'connected',
  version,
  clientId: 'c',
  username: null,
  policy,
  keepalive: 60,
  cleanStart: true,
  will: null,
  sessionExpiryS: 0,
  window: 32,
  maxPacketOut: 0,
  aliases: null,
  aliasesOut: null,
  quota: null,
});

/** A clean in-memory session handle (no store, sink discards). */
const newSession = () =>
  new SessionService<Delivery, SubOptions>({ limitsOf: () => DEFAULT_LIMITS, clock: { now: () => 0 }, scheduler: new ManualScheduler(), writer: null })
    .open({ host: 'h', clientId: 'c', cleanStart: true, version: 5 }, { publish() {}, pubrel() {} }).handle;

describe('channel (pure)', () => {
  it('CONNECT -> connected, one open effect carrying the CONNACK', () => {
    const s = dispatch({ phase: 'awaiting_connect' }, { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: '', clean: true, keepalive: 30 }, env, null, 0);
    expect(s.next).toMatchObject({ phase: 'connected', clientId: 'assigned', keepalive: 30, version: 5 });
    expect(s.effects).toEqual([{ type: 'open', connack: expect.objectContaining({ reasonCode: 0, properties: expect.objectContaining({ assignedClientIdentifier: 'assigned' }) }) }]);
  });

  it('a packet before CONNECT closes the connection (no DISCONNECT: nothing negotiated)', () => {
    const s = dispatch({ phase: 'awaiting_connect' }, { cmd: 'pingreq' }, env, null, 0);
    expect(s.next).toEqual({ phase: 'closed' });
    expect(s.effects).toEqual([{ type: 'close', reason: 'protocol_error', code: null, will: true }]);
  });

  it('a second CONNECT: v5 DISCONNECT 0x82 with will, v3 plain close with will', () => {
    const pkt = { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'x', clean: true, keepalive: 1 } as const;
    const session = newSession();
    expect(dispatch(connected(5), pkt, env, session, 0).effects).toEqual([{ type: 'close', reason: 'protocol_error', code: 0x82, will: true }]);
    expect(dispatch(connected(4), pkt, env, session, 0).effects).toEqual([{ type: 'close', reason: 'protocol_error', code: null, will: true }]);
  });

  it('PUBLISH QoS 1 -> route then PUBACK; ACL deny -> no route, v5 PUBACK 0x87', () => {
    const session = newSession();
    const pub = { cmd: 'publish', topic: 't', payload: Buffer.from('x'), qos: 1, messageId: 3, retain: false, dup: false } as const;
    const ok = dispatch(connected(4), pub, env, session, 1_000).effects;
    expect(ok.map((e) => e.type)).toEqual(['route', 'send']);
    const denyPolicy = { ...policy, acl: compileAcl([{ permission: 'deny', action: 'publish', topic: '#', username: '*', client_id: '*' }], 'allow') };
    const denied = dispatch({ ...connected(5), policy: denyPolicy }, pub, env, session, 1_000).effects;
    expect(denied).toEqual([{ type: 'count', what: 'acl_denied' }, { type: 'send', packet: { cmd: 'puback', messageId: 3, reasonCode: 0x87 } }]);
  });

  it('PUBLISH carries message expiry as a wall-clock deadline from nowMs', () => {
    const session = newSession();
    const [route] = dispatch(connected(5), { cmd: 'publish', topic: 't', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { messageExpiryInterval: 5 } }, env, session, 10_000).effects;
    expect(route).toMatchObject({ type: 'route', msg: { expiresAt: 15_000 } });
  });

  it('PINGREQ -> PINGRESP; PINGRESP -> pong', () => {
    const session = newSession();
    expect(dispatch(connected(4), { cmd: 'pingreq' }, env, session, 0).effects).toEqual([{ type: 'send', packet: { cmd: 'pingresp' } }]);
    expect(dispatch(connected(4), { cmd: 'pingresp' }, env, session, 0).effects).toEqual([{ type: 'pong' }]);
  });
});
