/**
 * Retained messages of one host in cluster mode: one copy in Redis (`ret:<host>`, topic -> message
 * blob), written by the publishing node's batch together with the routing of the same PUBLISH (the
 * router's `p` op carries the retain flag), and an index of the retained topic names on every node
 * (topic-index.ts, kept current from `mlog`).
 *
 *   put(msg)           marks the next routing of `msg` as retained (store, or clear when empty)
 *   matching(filter)   the index names the topics (a tree walk, no scan of every key), one HMGET
 *                      reads them; nothing matching answers at once. An exact topic is always read
 *                      from Redis, so a message retained on another node a moment ago is found even
 *                      before this node's index has it; a wildcard sees the index (a few ms behind).
 * Expiry (v5 Message Expiry) is checked on delivery, as on one node.
 */
import type { Message } from '../../mqtt/message.js';
import type { RetainedStore } from '../../mqtt/retained.js';
import type { RedisLink } from '../redis.js';
import { decodeMessage } from './codec.js';
import { MK } from './keys.js';
import type { TopicIndex } from './topic-index.js';

export interface ClusterRetainedDeps {
  host: string;
  index: TopicIndex;
  link(): RedisLink;
  /** The router's next publish of `msg` stores it (1) or clears its topic (2). */
  retainNext(msg: Message, how: 1 | 2): void;
}

export class ClusterRetained implements RetainedStore {
  constructor(private readonly d: ClusterRetainedDeps) {}

  get size(): number {
    return this.d.index.size;
  }

  put(msg: Message): void {
    this.d.retainNext(msg, msg.payload.length === 0 ? 2 : 1);
  }

  matching(filter: string, nowMs: number): readonly Message[] | Promise<readonly Message[]> {
    const wildcard = filter.includes('+') || filter.includes('#');
    const topics = wildcard ? this.d.index.match(filter) : [filter];
    if (topics.length === 0) return [];
    const key = MK.retained(this.d.host);
    return (this.d.link().sendBuf(key, ['HMGET', key, ...topics]) as Promise<(Buffer | null)[]>).then((blobs) => {
      const out: Message[] = [];
      for (const b of blobs) {
        if (!b) continue;
        const m = decodeMessage(b);
        if (m.expiresAt !== null && nowMs >= m.expiresAt) continue;
        out.push({ ...m, retain: true });
      }
      return out;
    });
  }
}
