/**
 * The cluster's route table, mirrored in memory on every node (EMQX's emqx_route table, kept
 * current from a Redis Stream instead of Mnesia): per host,
 *
 *   node routes     filter -> node incarnations (`<node>:<epoch>`) with a connected subscriber for it
 *   session routes  filter -> persistent sessions (client id, subscription options), connected or not
 *   retained index  topic names holding a retained message (topic-index.ts)
 *
 * A node forwards a PUBLISH to the nodes its node routes name (not to every node), and queues it
 * for the persistent sessions its session routes name, in its next batch (router.ts). Redis holds
 * the table (`rtn:`/`rts:`/`ret:` hashes, written by COMMIT with an `mlog` entry per change); a
 * node loads it at start (the log position first, then the hashes, then the log from that
 * position: entries applied twice are harmless, every change is a set or a delete).
 */
import type { SubOptions } from '../../mqtt/channel-session.js';
import { SubscriptionTrie } from '../../mqtt/trie.js';
import type { RedisLink } from '../redis.js';
import { decodeSubOptions } from './codec.js';
import { MK } from './keys.js';
import { TopicIndex } from './topic-index.js';

export interface SessionRoute {
  readonly clientId: string;
  readonly opts: SubOptions;
}

export class HostRoutes {
  /** Filter -> node incarnation -> node id. */
  readonly nodes = new SubscriptionTrie<string>();
  readonly sessions = new SubscriptionTrie<SessionRoute>();
  readonly retained = new TopicIndex();
}

/** `<node>:<epoch>` -> node. */
const nodeOf = (inc: string): string => inc.slice(0, inc.lastIndexOf(':'));

export class RouteTable {
  private readonly hosts = new Map<string, HostRoutes>();
  /** Changes applied (tests). */
  applied = 0;

  host(name: string): HostRoutes {
    let h = this.hosts.get(name);
    if (!h) this.hosts.set(name, (h = new HostRoutes()));
    return h;
  }

  /** One change: kind `n+ n- s+ s- r+ r-`, host, key (node incarnation, client id, topic), field. */
  apply(kind: string, host: string, k: string, f: string): void {
    const h = this.host(host);
    this.applied++;
    switch (kind) {
      case 'n+':
        h.nodes.add(f, k, nodeOf(k));
        return;
      case 'n-':
        h.nodes.remove(f, k);
        return;
      case 's+': {
        const z = f.indexOf('\0');
        h.sessions.add(f.slice(0, z), k, { clientId: k, opts: decodeSubOptions(f.slice(z + 1)) });
        return;
      }
      case 's-':
        h.sessions.remove(f, k);
        return;
      case 'r+':
        h.retained.add(k);
        return;
      case 'r-':
        h.retained.remove(k);
        return;
    }
  }

  /** Load the table of `hosts` from Redis; returns the log position to read on from. */
  async load(link: RedisLink, hosts: readonly string[]): Promise<string> {
    const last = (await link.send(MK.log, ['XREVRANGE', MK.log, '+', '-', 'COUNT', '1'])) as [string, string[]][];
    const from = last[0]?.[0] ?? '0-0';
    for (const host of hosts) {
      await scan(link, MK.nodeRoutes(host), (field) => {
        const bar = field.indexOf('|');
        this.apply('n+', host, field.slice(0, bar), field.slice(bar + 1));
      });
      await scan(link, MK.sessionRoutes(host), (field, value) => {
        const z = field.indexOf('\0');
        this.apply('s+', host, field.slice(0, z), `${field.slice(z + 1)}\0${value}`);
      });
      for (const topic of (await link.send(MK.retained(host), ['HKEYS', MK.retained(host)])) as string[]) this.apply('r+', host, topic, '');
    }
    return from;
  }
}

async function scan(link: RedisLink, key: string, each: (field: string, value: string) => void): Promise<void> {
  let cursor = '0';
  do {
    const [next, flat] = (await link.send(key, ['HSCAN', key, cursor, 'COUNT', '1000'])) as [string, string[]];
    for (let i = 0; i + 1 < flat.length; i += 2) each(flat[i]!, flat[i + 1]!);
    cursor = next;
  } while (cursor !== '0');
}
