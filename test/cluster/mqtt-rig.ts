/**
 * Helpers of the MQTT-across-nodes tests (issue 16) on the cluster rig (rig.ts): waiting until a
 * route or a session route is known on every node, collecting messages of an mqtt.js client.
 */
import { createClient } from '@redis/client';
import type { MqttClient } from 'mqtt';
import type { App } from '../../src/app.js';
import type { MqttService } from '../../src/mqtt/listener.js';
import { HOST, until } from './rig.js';

const routesOf = (app: App) => app.deps.cluster!.mqtt.routes.host(HOST);

/** Every node's route table sends `topic` to node `node`. */
export function nodeRouted(nodes: App[], topic: string, node: string): Promise<true> {
  return until(() => nodes.every((a) => routesOf(a).nodes.match(topic, []).includes(node)), 10_000, `route of ${topic} to ${node} everywhere`);
}

/** Every node's route table knows persistent session `clientId` for `topic`. */
export function sessionRouted(nodes: App[], topic: string, clientId: string): Promise<true> {
  return until(() => nodes.every((a) => routesOf(a).sessions.match(topic, []).some((s) => s.clientId === clientId)), 10_000, `session route of ${clientId} for ${topic} everywhere`);
}

/** Every node's retained index holds `topic`. */
export function retainedIndexed(nodes: App[], topic: string): Promise<true> {
  return until(() => nodes.every((a) => routesOf(a).retained.match(topic).includes(topic)), 10_000, `retained ${topic} indexed everywhere`);
}

export interface Inbox {
  readonly got: { topic: string; payload: string; qos: number; retain: boolean }[];
  payloads(topic?: string): string[];
}

export function collect(client: MqttClient): Inbox {
  const got: Inbox['got'] = [];
  client.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain }));
  return { got, payloads: (topic) => got.filter((m) => topic === undefined || m.topic === topic).map((m) => m.payload) };
}

export const nodeId = (app: App): string => app.deps.cluster!.nodeId;

/** The node's MQTT broker. */
export const brokerOf = (app: App) => (app.services.find((s) => s.name === 'mqtt') as MqttService).broker;

/** One command on the rig's Redis (a connection of its own, closed after). */
export async function redisCall(url: string, args: string[]): Promise<unknown> {
  const r = createClient({ url, RESP: 2 });
  await r.connect();
  try {
    return await r.sendCommand(args);
  } finally {
    await r.close();
  }
}
