/**
 * MQTT fuzz inputs: valid 3.1.1 and 5.0 packet streams (generated with mqtt-packet) and
 * MQTT-aware mutators: remaining-length lies (too short, too long, five-byte varints), random v5
 * properties (legal ids in the wrong packet, wrong types, repeats), packet reordering and
 * duplication, plus the byte mutators of mutate.ts.
 */
import { generate, type Packet } from 'mqtt-packet';
import { BYTE_MUTATORS } from './mutate.js';
import type { Rng } from './rng.js';

type V = 4 | 5;

function seedPackets(v: V, rng: Rng): Packet[] {
  const v5 = v === 5;
  const props = v5 && rng.chance(0.7);
  const id = () => 1 + rng.int(65535);
  return [
    {
      cmd: 'connect', protocolId: 'MQTT', protocolVersion: v, clean: rng.chance(0.5), keepalive: rng.pick([0, 10, 60, 65535]),
      clientId: rng.pick(['', 'fz1', 'fz2', 'fz3']),
      ...(rng.chance(0.3) ? { username: 'fuzzer', password: Buffer.from('fuzzpw') } : {}),
      ...(rng.chance(0.3) ? { will: { topic: 'fz/will', payload: Buffer.from('bye'), qos: rng.int(3) as 0 | 1 | 2, retain: rng.chance(0.5), ...(props ? { properties: { willDelayInterval: rng.int(5), messageExpiryInterval: 10 } } : {}) } } : {}),
      ...(props ? { properties: { sessionExpiryInterval: rng.pick([0, 10, 0xffffffff]), receiveMaximum: 1 + rng.int(10), maximumPacketSize: 100 + rng.int(100000), topicAliasMaximum: rng.int(5), requestProblemInformation: true, userProperties: { a: 'b' } } } : {}),
    },
    { cmd: 'subscribe', messageId: id(), subscriptions: [{ topic: rng.pick(['fz/#', 'ctl/#', '+/x', '$SYS/#', 'a/+/b']), qos: rng.int(3) as 0 | 1 | 2, ...(v5 ? { nl: rng.chance(0.5), rap: rng.chance(0.5), rh: rng.int(3) } : {}) }], ...(props ? { properties: { userProperties: { k: 'v' } } } : {}) },
    { cmd: 'publish', topic: rng.pick(['fz/a', 'ctl/x', 'fz/b/c', '$SYS/x']), payload: rng.bytes(rng.int(64)), qos: rng.int(3) as 0 | 1 | 2, retain: rng.chance(0.3), dup: false, messageId: id(),
      ...(props ? { properties: { payloadFormatIndicator: rng.chance(0.5), messageExpiryInterval: rng.int(100), topicAlias: 1 + rng.int(3), responseTopic: 'fz/r', correlationData: Buffer.from('c'), userProperties: { x: 'y' }, contentType: 'text/plain' } } : {}) },
    { cmd: 'publish', topic: 'fz/q2', payload: Buffer.from('two'), qos: 2, retain: false, dup: false, messageId: 7 },
    { cmd: 'pubrel', messageId: 7, ...(v5 ? { reasonCode: 0 } : {}) },
    { cmd: 'puback', messageId: id() },
    { cmd: 'pubrec', messageId: id() },
    { cmd: 'pubcomp', messageId: id() },
    { cmd: 'unsubscribe', messageId: id(), unsubscriptions: ['fz/#', 'nope'] },
    { cmd: 'pingreq' },
    ...(v5 && rng.chance(0.3) ? [{ cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'X' } } as Packet] : []),
    { cmd: 'disconnect', ...(v5 ? { reasonCode: rng.pick([0, 4]), ...(props ? { properties: { sessionExpiryInterval: 0 } } : {}) } : {}) },
  ];
}

const encode = (p: Packet, v: V): Buffer | null => {
  try {
    return generate(p, { protocolVersion: v });
  } catch {
    return null;
  }
};

/** A varint for the remaining length that lies about the body. */
function lyingLength(actual: number, rng: Rng): Buffer {
  const choice = rng.int(5);
  if (choice === 0) return Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f]); // five bytes: malformed
  if (choice === 1) return Buffer.from([0xff, 0xff, 0xff, 0x7f]); // 268435455
  let n = choice === 2 ? Math.max(0, actual - 1 - rng.int(4)) : choice === 3 ? actual + 1 + rng.int(200) : rng.int(300_000);
  const out: number[] = [];
  do {
    let d = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) d |= 0x80;
    out.push(d);
  } while (n > 0);
  return Buffer.from(out);
}

/** Rewrite one packet's fixed header with a lying remaining length. */
function lieAboutLength(pkt: Buffer, rng: Rng): Buffer {
  let i = 1;
  let len = 0;
  let mul = 1;
  while (i < pkt.length && i < 5) {
    const d = pkt[i]!;
    len += (d & 0x7f) * mul;
    mul *= 128;
    i++;
    if ((d & 0x80) === 0) break;
  }
  return Buffer.concat([pkt.subarray(0, 1), lyingLength(len, rng), pkt.subarray(i)]);
}

const PROP_POOL: readonly Record<string, unknown>[] = [
  { topicAlias: 0 }, { topicAlias: 65535 }, { subscriptionIdentifier: 5 }, { receiveMaximum: 0 }, { maximumPacketSize: 0 },
  { sessionExpiryInterval: 0xffffffff }, { messageExpiryInterval: 0 }, { payloadFormatIndicator: true }, { userProperties: { ['k'.repeat(300)]: 'v'.repeat(1000) } },
  { authenticationMethod: 'SCRAM' }, { authenticationData: Buffer.alloc(10) }, { responseTopic: 'a/#' }, { serverReference: 'x' }, { reasonString: 'r' },
  { requestResponseInformation: true }, { willDelayInterval: 1 }, { topicAliasMaximum: 65535 }, { correlationData: Buffer.alloc(0) },
];

/** A v5 packet with random (often illegal for that packet) properties. */
function withRandomProperties(p: Packet, rng: Rng): Packet {
  const extra: Record<string, unknown> = {};
  for (let i = 0, n = 1 + rng.int(3); i < n; i++) Object.assign(extra, rng.pick(PROP_POOL));
  const base = (p as { properties?: Record<string, unknown> }).properties ?? {};
  return { ...p, properties: { ...base, ...extra } } as Packet;
}

/** One mutated packet stream for 3.1.1 or 5.0. */
export function mqttCase(rng: Rng): Buffer {
  const v: V = rng.chance(0.5) ? 4 : 5;
  let packets = seedPackets(v, rng).slice(0, 1 + rng.int(12));
  if (v === 5 && rng.chance(0.3)) {
    const i = rng.int(packets.length);
    packets[i] = withRandomProperties(packets[i]!, rng);
  }
  if (rng.chance(0.15)) packets = [...packets].sort(() => rng.next() - 0.5);
  const bufs = packets.map((p) => encode(p, v) ?? Buffer.alloc(0));
  const kind = rng.int(4);
  if (kind === 0 && bufs.length > 0) {
    const i = rng.int(bufs.length);
    bufs[i] = lieAboutLength(bufs[i]!, rng);
  } else if (kind === 1 && bufs.length > 0) {
    const i = rng.int(bufs.length);
    bufs.splice(i, 0, bufs[rng.int(bufs.length)]!);
  }
  let b: Buffer = Buffer.concat(bufs);
  const rounds = kind >= 2 ? 1 + rng.int(3) : rng.int(2);
  for (let i = 0; i < rounds; i++) b = rng.pick(BYTE_MUTATORS)(b, rng);
  return b;
}
