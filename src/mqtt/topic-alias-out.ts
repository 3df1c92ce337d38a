/**
 * Outbound topic aliases (MQTT 5.0 §3.3.2.3.4), per connection: when a v5 client announces a Topic
 * Alias Maximum in CONNECT and the host has `mqtt.topic_alias_out` on, PUBLISH packets to it carry a
 * Topic Alias; the first one for a topic carries the topic too (the client learns the mapping),
 * later ones an empty topic name. Never an alias above the client's maximum [MQTT-3.3.2-10]
 * (nor 0 [MQTT-3.3.2-8]); when all are taken the least recently used alias is given to the new topic
 * (sent with its topic, which replaces the client's mapping, §3.3.2.3.4).
 *
 * `assign` answers one number so that nothing is allocated per message: > 0 a new mapping (send
 * the topic), < 0 a known one (send an empty topic name). A PUBLISH that is not sent after all
 * (expired, too large for the client) must `forget` its topic, or the client would get an alias it
 * never learned.
 */
import { encodePublish } from './deliver.js';
import type { Delivery } from './message.js';

/** The PUBLISH of `d` for a client that takes aliases (null: expired), its alias assigned or forgotten. */
export function encodeAliased(st: { version: number; maxPacketOut: number }, out: OutboundAliases, d: Delivery, id: number, dup: boolean, nowMs: number): Buffer | null {
  const alias = out.assign(d.msg.topic);
  const buf = encodePublish(st.version, d, id, dup, nowMs, alias);
  // Not sent after all (expired, too large for the client): the client must not keep an alias it never learned.
  if (alias > 0 && (buf === null || (st.maxPacketOut > 0 && buf.length > st.maxPacketOut))) out.forget(d.msg.topic);
  return buf;
}

export class OutboundAliases {
  /** topic -> alias, least recently used first (Map order: a use moves it to the end). */
  private readonly byTopic = new Map<string, number>();

  constructor(readonly max: number) {}

  assign(topic: string): number {
    const known = this.byTopic.get(topic);
    if (known !== undefined) {
      this.byTopic.delete(topic);
      this.byTopic.set(topic, known);
      return -known;
    }
    let alias = this.byTopic.size + 1;
    if (alias > this.max) {
      const [oldest, a] = this.byTopic.entries().next().value as [string, number];
      this.byTopic.delete(oldest);
      alias = a;
    }
    this.byTopic.set(topic, alias);
    return alias;
  }

  forget(topic: string): void {
    this.byTopic.delete(topic);
  }
}
