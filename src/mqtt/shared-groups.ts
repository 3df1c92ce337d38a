/**
 * Shared subscriptions of one host (MQTT 5.0 §4.8.2; accepted from 3.1.1 clients too, as Mosquitto
 * and EMQX do): `$share/{ShareName}/{filter}`. Each group (share name + filter) holds its members
 * with their own options (QoS, Subscription Identifier) and gets one delivery per matching message,
 * to the member shared-strategy.ts picks. A client may be in a group and also hold a non-shared
 * subscription matching the same topic: it then gets both copies (§4.8.2).
 *
 *   subscribe / unsubscribe  -> the group's member list (a group with no member is removed)
 *   match(topic)             -> the groups whose filter matches, from a trie keyed by share name
 */
import type { SubOptions } from './channel-session.js';
import type { PickState } from './shared-strategy.js';
import { SubscriptionTrie } from './trie.js';

export interface SharedFilter {
  /** ShareName. */
  name: string;
  /** The filter without `$share/{ShareName}/`: what is matched, and what the ACL checks. */
  filter: string;
}

/**
 * `$share/{ShareName}/{filter}` split, or null when `filter` is not shared. 'invalid': a ShareName
 * that is empty or holds '+' or '#' [MQTT-4.8.2-1], or no filter after it [MQTT-4.8.2-2].
 */
export function parseShared(filter: string): SharedFilter | 'invalid' | null {
  if (!filter.startsWith('$share/')) return null;
  const slash = filter.indexOf('/', 7);
  if (slash < 0) return 'invalid';
  const name = filter.slice(7, slash);
  const rest = filter.slice(slash + 1);
  if (name.length === 0 || name.includes('+') || name.includes('#') || rest.length === 0) return 'invalid';
  return { name, filter: rest };
}

export interface SharedGroup extends PickState {
  /** `$share/{name}/{filter}`: the group's name in metrics. */
  readonly key: string;
  /** Members in the order they joined (the strategies' list) and their options. */
  readonly list: string[];
  readonly members: Map<string, SubOptions>;
}

export class SharedGroups {
  private readonly trie = new SubscriptionTrie<SharedGroup>();
  /** Groups by key, for subscribe / unsubscribe (the trie finds by topic). */
  private readonly byKey = new Map<string, SharedGroup>();
  private members = 0;

  /** Memberships held. */
  get size(): number {
    return this.members;
  }

  subscribe(clientId: string, s: SharedFilter, opts: SubOptions): void {
    const key = `$share/${s.name}/${s.filter}`;
    let g = this.byKey.get(key);
    if (g === undefined) {
      g = { key, list: [], members: new Map(), cursor: 0, sticky: null };
      this.byKey.set(key, g);
      this.trie.add(s.filter, s.name, g);
    }
    if (!g.members.has(clientId)) {
      g.list.push(clientId);
      this.members++;
    }
    g.members.set(clientId, opts);
  }

  unsubscribe(clientId: string, s: SharedFilter): void {
    const key = `$share/${s.name}/${s.filter}`;
    const g = this.byKey.get(key);
    if (g === undefined || !g.members.delete(clientId)) return;
    g.list.splice(g.list.indexOf(clientId), 1);
    this.members--;
    if (g.sticky === clientId) g.sticky = null;
    if (g.list.length === 0) {
      this.byKey.delete(key);
      this.trie.remove(s.filter, s.name);
    }
  }

  /** The group of `key` (`$share/{name}/{filter}`). */
  get(key: string): SharedGroup | undefined {
    return this.byKey.get(key);
  }

  match(topic: string, out: SharedGroup[]): SharedGroup[] {
    return this.members === 0 ? out : this.trie.match(topic, out);
  }
}
