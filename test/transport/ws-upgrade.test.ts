/**
 * WebSocket upgrade checks (src/transport/ws-server.ts), shared by the dedicated MQTT listeners and
 * the HTTP listener's endpoints: path 404, Origin 403 against check_origin, subprotocol 400
 * (MQTT-6.0.0-3/4, RFC 7395 §3.1), a comma-separated offer read, the first offered one we speak
 * chosen. An HTTP upgrade without the subprotocol is never answered with 101.
 */
import { describe, expect, it } from 'vitest';
import { mqttWsFraming } from '../../src/mqtt/ws-framing.js';
import { chooseSubprotocol, refuseUpgrade } from '../../src/transport/ws-server.js';
import { xmppWsFraming } from '../../src/xmpp/ws-framing.js';

const mqtt = { path: '/mqtt', checkOrigin: [] as string[], framing: mqttWsFraming(1 << 20) };
const req = (headers: Record<string, string>, url = '/mqtt') => ({ url, headers });

describe('WebSocket upgrade checks', () => {
  it('subprotocol: mqtt or mqttv3.1, from a comma list too; none of ours -> 400', () => {
    expect(chooseSubprotocol('mqtt', mqtt.framing.subprotocols)).toBe('mqtt');
    expect(chooseSubprotocol('mqttv3.1', mqtt.framing.subprotocols)).toBe('mqttv3.1');
    expect(chooseSubprotocol('wamp, mqttv3.1 ,mqtt', mqtt.framing.subprotocols)).toBe('mqttv3.1');
    expect(chooseSubprotocol(['foo', 'mqtt'], mqtt.framing.subprotocols)).toBe('mqtt');
    expect(chooseSubprotocol(undefined, mqtt.framing.subprotocols)).toBeNull();
    expect(refuseUpgrade(req({}), mqtt)).toMatchObject({ status: 400 });
    expect(refuseUpgrade(req({ 'sec-websocket-protocol': 'xmpp' }), mqtt)).toMatchObject({ status: 400 });
    expect(refuseUpgrade(req({ 'sec-websocket-protocol': 'mqtt' }), mqtt)).toBeNull();
    const xmpp = { path: '/xmpp-websocket', checkOrigin: [], framing: xmppWsFraming(65_536) };
    expect(refuseUpgrade(req({ 'sec-websocket-protocol': 'mqtt' }, '/xmpp-websocket'), xmpp)).toMatchObject({ status: 400 });
    expect(refuseUpgrade(req({ 'sec-websocket-protocol': 'xmpp' }, '/xmpp-websocket?x=1'), xmpp)).toBeNull();
  });

  it('path 404; Origin not in check_origin 403, a client without Origin (not a browser) passes', () => {
    const rules = { ...mqtt, checkOrigin: ['https://app.example.org'] };
    const ok = { 'sec-websocket-protocol': 'mqtt' };
    expect(refuseUpgrade(req(ok, '/other'), rules)).toMatchObject({ status: 404 });
    expect(refuseUpgrade(req({ ...ok, origin: 'https://evil.example' }), rules)).toMatchObject({ status: 403 });
    expect(refuseUpgrade(req({ ...ok, origin: 'https://app.example.org' }), rules)).toBeNull();
    expect(refuseUpgrade(req(ok), rules)).toBeNull();
  });
});
