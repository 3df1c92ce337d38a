/**
 * How MQTT messages travel through Redis in cluster mode (issue 16): one compact binary form,
 * written once by the publishing node and stored as it is in node inboxes, session queues,
 * inflight hashes, retained hashes and will records (Lua scripts copy it, never parse it).
 *
 *   message blob   u8 version (1) | u8 flags (bits 0-1 QoS, 2 RETAIN, 3 expiry, 4 properties)
 *                  | [f64 expiresAt, wall ms] | u16 topic length | topic | u16 sender length
 *                  | sender | [u32 properties length | properties JSON] | payload (the rest)
 *   delivery blob  ASCII delivery params | 0x0a | message blob
 *   delivery params  `<qos><retain 0|1>[,<subId>...]`       e.g. `10`, `21,7,12`
 *   subscription options  `<qos><nl><rap><rh>[<subId>]`     e.g. `1000`, `21015`
 *
 * v5 properties are JSON with Buffers (correlation data) as {"$b": base64}; v3 messages have none,
 * so the common message costs no JSON. Nothing here knows Redis.
 */
import type { SubOptions } from '../../mqtt/channel-session.js';
import type { Delivery, Message, PublishProperties } from '../../mqtt/message.js';

const VERSION = 1;
const F_RETAIN = 4;
const F_EXPIRY = 8;
const F_PROPS = 16;

function propsJson(p: PublishProperties): Buffer {
  return Buffer.from(JSON.stringify(p, (_k, v: unknown) => (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? { $b: Buffer.from((v as { data: number[] }).data).toString('base64') } : v)));
}

function parseProps(s: string): PublishProperties {
  return JSON.parse(s, (_k, v: unknown) => (v && typeof v === 'object' && typeof (v as { $b?: unknown }).$b === 'string' ? Buffer.from((v as { $b: string }).$b, 'base64') : v)) as PublishProperties;
}

/** A message as one Buffer. */
export function encodeMessage(m: Message): Buffer {
  const topicLen = Buffer.byteLength(m.topic);
  const senderLen = Buffer.byteLength(m.senderId);
  const props = m.properties ? propsJson(m.properties) : null;
  const size = 2 + (m.expiresAt !== null ? 8 : 0) + 2 + topicLen + 2 + senderLen + (props ? 4 + props.length : 0) + m.payload.length;
  const b = Buffer.allocUnsafe(size);
  b[0] = VERSION;
  b[1] = m.qos | (m.retain ? F_RETAIN : 0) | (m.expiresAt !== null ? F_EXPIRY : 0) | (props ? F_PROPS : 0);
  let at = 2;
  if (m.expiresAt !== null) at = b.writeDoubleBE(m.expiresAt, at);
  at = b.writeUInt16BE(topicLen, at);
  at += b.write(m.topic, at, 'utf8');
  at = b.writeUInt16BE(senderLen, at);
  at += b.write(m.senderId, at, 'utf8');
  if (props) {
    at = b.writeUInt32BE(props.length, at);
    at += props.copy(b, at);
  }
  m.payload.copy(b, at);
  return b;
}

/** The message of a blob (`start`: where it begins inside `b`). Throws on a blob of another version. */
export function decodeMessage(b: Buffer, start = 0): Message {
  if (b[start] !== VERSION) throw new Error(`cluster codec: message blob version ${b[start]}`);
  const flags = b[start + 1]!;
  let at = start + 2;
  let expiresAt: number | null = null;
  if (flags & F_EXPIRY) {
    expiresAt = b.readDoubleBE(at);
    at += 8;
  }
  const topicLen = b.readUInt16BE(at);
  at += 2;
  const topic = b.toString('utf8', at, at + topicLen);
  at += topicLen;
  const senderLen = b.readUInt16BE(at);
  at += 2;
  const senderId = b.toString('utf8', at, at + senderLen);
  at += senderLen;
  let properties: PublishProperties | null = null;
  if (flags & F_PROPS) {
    const n = b.readUInt32BE(at);
    at += 4;
    properties = parseProps(b.toString('utf8', at, at + n));
    at += n;
  }
  return { topic, payload: b.subarray(at), qos: (flags & 3) as Message['qos'], retain: (flags & F_RETAIN) !== 0, properties, expiresAt, senderId };
}

/** The topic of a message blob, without decoding the rest. */
export function topicOf(b: Buffer): string {
  const at = 2 + (b[1]! & F_EXPIRY ? 8 : 0);
  return b.toString('utf8', at + 2, at + 2 + b.readUInt16BE(at));
}

/** Delivery params of one subscriber's copy: QoS, RETAIN flag, Subscription Identifiers. */
export function deliveryParams(qos: number, retain: boolean, subIds: readonly number[] | null): string {
  const head = `${qos}${retain ? 1 : 0}`;
  return subIds && subIds.length > 0 ? `${head},${subIds.join(',')}` : head;
}

/** A Delivery from its params and its message. */
export function deliveryOf(params: string, msg: Message): Delivery {
  const qos = (params.charCodeAt(0) - 48) as Delivery['qos'];
  const retain = params.charCodeAt(1) === 49;
  const subIds = params.length > 2 ? params.slice(3).split(',').map(Number) : null;
  return { msg, qos, retain, subIds };
}

/** params + '\n' + message blob. */
export function encodeDelivery(d: Delivery, blob = encodeMessage(d.msg)): Buffer {
  return Buffer.concat([Buffer.from(`${deliveryParams(d.qos, d.retain, d.subIds)}\n`, 'latin1'), blob]);
}

export function decodeDelivery(b: Buffer, start = 0): Delivery {
  const nl = b.indexOf(0x0a, start);
  if (nl < 0) throw new Error('cluster codec: delivery blob without params');
  return deliveryOf(b.toString('latin1', start, nl), decodeMessage(b, nl + 1));
}

export function encodeSubOptions(o: SubOptions): string {
  return `${o.qos}${o.nl ? 1 : 0}${o.rap ? 1 : 0}${o.rh}${o.subId ?? ''}`;
}

export function decodeSubOptions(s: string): SubOptions {
  const subId = s.length > 4 ? Number(s.slice(4)) : null;
  return { qos: (s.charCodeAt(0) - 48) as SubOptions['qos'], nl: s[1] === '1', rap: s[2] === '1', rh: s.charCodeAt(3) - 48, subId };
}
