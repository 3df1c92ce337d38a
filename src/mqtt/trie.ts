/**
 * Subscription trie for one host: topic filter levels as edges, '+' and '#' as dedicated children,
 * subscribers stored at the node where their filter ends, keyed by client id (one entry per client
 * and filter: a new SUBSCRIBE to the same filter replaces the old one [MQTT-3.8.4-3]).
 *
 * match(topic) walks at most two branches per level ('literal' and '+') plus a '#' lookup, so its
 * cost grows with the topic depth and the number of matches, not with the number of filters.
 * '$'-topics are not matched by '+' or '#' at the first level [MQTT-4.7.2-1].
 */

interface TrieNode<V> {
  children: Map<string, TrieNode<V>> | null;
  plus: TrieNode<V> | null;
  hash: TrieNode<V> | null;
  subs: Map<string, V> | null;
}

const node = <V>(): TrieNode<V> => ({ children: null, plus: null, hash: null, subs: null });

export class SubscriptionTrie<V> {
  private readonly root: TrieNode<V> = node();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Add or replace `key`'s subscription to `filter`. Returns true when it is new. */
  add(filter: string, key: string, value: V): boolean {
    let n = this.root;
    for (const level of filter.split('/')) {
      if (level === '+') n = n.plus ??= node();
      else if (level === '#') n = n.hash ??= node();
      else {
        n.children ??= new Map();
        let c = n.children.get(level);
        if (!c) n.children.set(level, (c = node()));
        n = c;
      }
    }
    n.subs ??= new Map();
    const isNew = !n.subs.has(key);
    n.subs.set(key, value);
    if (isNew) this.count++;
    return isNew;
  }

  /** Remove `key`'s subscription to `filter`; prunes empty nodes. Returns true when it existed. */
  remove(filter: string, key: string): boolean {
    const path: [TrieNode<V>, string][] = [];
    let n: TrieNode<V> | null | undefined = this.root;
    for (const level of filter.split('/')) {
      path.push([n, level]);
      n = level === '+' ? n.plus : level === '#' ? n.hash : n.children?.get(level);
      if (!n) return false;
    }
    if (!n.subs?.delete(key)) return false;
    this.count--;
    if (n.subs.size === 0) n.subs = null;
    for (let i = path.length - 1; i >= 0; i--) {
      const [parent, level] = path[i]!;
      const child = level === '+' ? parent.plus : level === '#' ? parent.hash : parent.children?.get(level);
      if (!child || child.subs || child.plus || child.hash || (child.children && child.children.size > 0)) break;
      if (level === '+') parent.plus = null;
      else if (level === '#') parent.hash = null;
      else parent.children?.delete(level);
    }
    return true;
  }

  /** Push every subscription matching `topic` into `out` (a client with overlapping filters appears once per filter). */
  match(topic: string, out: V[]): V[] {
    const levels = topic.split('/');
    this.walk(this.root, levels, 0, topic.charCodeAt(0) === 0x24 /* $ */, out);
    return out;
  }

  private walk(n: TrieNode<V>, levels: string[], i: number, dollar: boolean, out: V[]): void {
    // '#' matches this level and everything below, including the parent level itself [MQTT-4.7.1-2].
    if (n.hash?.subs && !(i === 0 && dollar)) pushAll(n.hash.subs, out);
    if (i === levels.length) {
      if (n.subs) pushAll(n.subs, out);
      return;
    }
    const c = n.children?.get(levels[i]!);
    if (c) this.walk(c, levels, i + 1, dollar, out);
    if (n.plus && !(i === 0 && dollar)) this.walk(n.plus, levels, i + 1, dollar, out);
  }
}

function pushAll<V>(subs: Map<string, V>, out: V[]): void {
  for (const v of subs.values()) out.push(v);
}
