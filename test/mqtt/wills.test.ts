/**
 * Issue 12 items 2 and 3, through the broker: what a will PUBLISH carries (only the properties of
 * MQTT 5 §3.1.3.2 that a PUBLISH may carry: no Will Delay Interval), and when a delayed will goes
 * out: after the Will Delay Interval or at the end of the session, whichever is first
 * [MQTT-3.1.3-9]; a reconnect inside the delay cancels it. The scheduler's own contract:
 * wills.contract.ts. Real clients: test/mqtt/clients-e2e.test.ts (Paho Python will with
 * properties, mosquitto_sub --will-*).
 */
import { describe, expect, it } from 'vitest';
import { HOST, rig, settle } from './harness.js';

const will = (delayS: number | null, extra: Record<string, unknown> = {}) => ({
  topic: 'wills/a',
  payload: Buffer.from('gone'),
  qos: 1 as const,
  retain: false,
  properties: { ...(delayS === null ? {} : { willDelayInterval: delayS }), ...extra },
});

async function watcher(r: ReturnType<typeof rig>) {
  const sub = r.client(5);
  await sub.connect({}, 'watcher');
  sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'wills/#', qos: 0 }] });
  await settle();
  return sub;
}

describe('will message (v5)', () => {
  it('carries Payload Format, Content Type, Response Topic, Correlation Data, User Properties and the expiry left; never Will Delay Interval', async () => {
    const r = rig();
    const sub = await watcher(r);
    const props = {
      payloadFormatIndicator: true,
      contentType: 'text/plain',
      responseTopic: 'replies/a',
      correlationData: Buffer.from('c0'),
      userProperties: { k: 'v' },
      messageExpiryInterval: 60,
    };
    const a = r.client(5);
    await a.connect({ will: will(0, props) }, 'a');
    a.drop();
    await settle();
    const [p] = sub.take('publish');
    expect(p?.topic).toBe('wills/a');
    expect(p?.properties).toEqual(props);
  });

  it('Session Expiry 0 and Will Delay 5: the session ends with the connection, the will goes at once', async () => {
    const r = rig();
    const sub = await watcher(r);
    const a = r.client(5);
    await a.connect({ properties: { sessionExpiryInterval: 0 }, will: will(5) }, 'a');
    a.drop();
    await settle();
    await settle();
    expect(sub.take('publish').map((p) => p.payload.toString())).toEqual(['gone']);
    expect(sub.received.some((p) => p.cmd === 'publish' && (p.properties as Record<string, unknown> | undefined)?.willDelayInterval !== undefined)).toBe(false);
  });

  it.each([
    { delay: 3, expiry: 5, at: 3_000, sessionLeft: true },
    { delay: 5, expiry: 2, at: 2_000, sessionLeft: false },
  ])('Will Delay $delay, Session Expiry $expiry: the will at $at ms, whichever comes first', async ({ delay, expiry, at, sessionLeft }) => {
    const r = rig();
    const sub = await watcher(r);
    const a = r.client(5);
    await a.connect({ clean: false, properties: { sessionExpiryInterval: expiry }, will: will(delay) }, 'a');
    a.drop();
    await settle();
    await r.advance(at - 1);
    expect(sub.take('publish')).toEqual([]);
    await r.advance(1);
    expect(sub.take('publish').map((p) => p.topic)).toEqual(['wills/a']);
    expect(r.service.broker.sessions.figures(HOST, 'a') !== undefined).toBe(sessionLeft);
  });

  it('max_session_expiry caps the session, and the will goes when that session ends; CONNACK says so', async () => {
    const r = rig({ mqtt: { max_session_expiry: 2 } });
    const sub = await watcher(r);
    const a = r.client(5);
    const [ack] = await a.connect({ clean: false, properties: { sessionExpiryInterval: 60 }, will: will(10) }, 'a');
    expect(ack?.properties?.sessionExpiryInterval).toBe(2); // 5.0 §3.2.2.3.2
    a.drop();
    await settle();
    await r.advance(2_000);
    expect(sub.take('publish').map((p) => p.topic)).toEqual(['wills/a']);
  });

  it('a reconnect inside the delay cancels the will, whichever of the two would have come first [MQTT-3.1.3-9]', async () => {
    const r = rig();
    const sub = await watcher(r);
    for (const [delay, expiry] of [[3, 5], [5, 4]] as const) {
      const a = r.client(5);
      await a.connect({ clean: false, properties: { sessionExpiryInterval: expiry }, will: will(delay) }, 'a');
      a.drop();
      await settle();
      await r.advance(2_000);
      const again = r.client(5);
      await again.connect({ clean: false, properties: { sessionExpiryInterval: expiry } }, 'a');
      await r.advance(10_000);
      expect(sub.take('publish')).toEqual([]);
      again.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
      await settle();
    }
  });
});
