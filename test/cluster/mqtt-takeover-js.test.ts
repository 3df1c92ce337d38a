/**
 * Takeover across nodes with real mqtt.js clients (issue 16): a persistent MQTT 5 subscriber on
 * node 1 holds a QoS 2 message unanswered (its PUBREC held back); the same client id connects to
 * node 2 while the first connection is still open. Node 1 closes the old connection, node 2 resumes the session: the message is resent with DUP and the same packet id,
 * and the application sees it exactly once.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ClusterRig, mqttConnect, port, startCluster, until } from './rig.js';
import { sessionRouted } from './mqtt-rig.js';

let c: ClusterRig;
const clients: MqttClient[] = [];
beforeAll(async () => {
  c = await startCluster(2, { leaseMs: 3_000 });
}, 30_000);
afterAll(async () => {
  for (const cl of clients) cl.end(true);
  await c?.stop();
});

it('a QoS 2 message in flight to a client taken over on another node: resent with DUP, delivered once', async () => {
  const opts = { clientId: 'js-take', clean: false, protocolVersion: 5 as const, properties: { sessionExpiryInterval: 600 }, reconnectPeriod: 0 };
  const seen: string[] = [];
  let held = 0;
  const first = await mqttConnect(c.nodes[0]!, {
    ...opts,
    // Hold every PUBREC back: the message stays in flight (await_pubrec) on node 1.
    customHandleAcks: () => void held++,
  });
  clients.push(first);
  first.on('message', (_t, p) => seen.push(`first:${String(p)}`));
  const closed = new Promise<void>((r) => first.once('close', () => r()));
  await first.subscribeAsync('tk/#', { qos: 2 });
  await sessionRouted(c.nodes, 'tk/a', 'js-take');
  const firstPublish = new Promise<{ messageId?: number; dup: boolean }>((r) => first.on('packetreceive', (p) => p.cmd === 'publish' && r(p)));
  const pub = await mqttConnect(c.nodes[1]!, { clientId: 'js-take-pub' });
  clients.push(pub);
  await pub.publishAsync('tk/a', 'once', { qos: 2 });
  const p1 = await firstPublish;
  await until(() => held === 1, 5_000, 'PUBREC held');

  const second = mqtt.connect({ host: '127.0.0.1', port: port(c.nodes[1]!, 'mqtt'), ...opts });
  clients.push(second);
  second.on('message', (_t, p) => seen.push(`second:${String(p)}`));
  const resent = new Promise<{ messageId?: number; dup: boolean }>((r) => second.on('packetreceive', (p) => p.cmd === 'publish' && r(p)));
  const present = await new Promise<boolean>((r) => second.once('connect', (ack) => r(ack.sessionPresent)));
  expect(present).toBe(true);
  await closed; // node 1 closed it (0x8E; mqtt.js, its input paused by the held ack, reads no more)
  const p2 = await resent;
  expect(p2).toMatchObject({ messageId: p1.messageId, dup: true });
  await until(() => seen.length === 1, 5_000, 'delivered on the new connection');
  await new Promise((r) => setTimeout(r, 300));
  expect(seen).toEqual(['second:once']);
}, 30_000);
