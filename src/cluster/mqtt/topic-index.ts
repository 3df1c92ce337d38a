/**
 * The retained index of one host in cluster mode: the topic names that hold a retained message,
 * as a tree of topic levels, mirrored on every node from the `mlog` stream (the messages stay in
 * Redis, one copy). A SUBSCRIBE walks the tree with its filter (`+` one level, `#` the rest
 * [MQTT-4.7.1-2]; neither matches a first level starting with `$` [MQTT-4.7.2-1]), so its cost
 * grows with the levels it visits and the topics it finds, not with every retained topic; the
 * messages found are then read with one HMGET.
 */

interface Level {
  children: Map<string, Level> | null;
  /** A retained message is held at this exact topic. */
  here: boolean;
}

const level = (): Level => ({ children: null, here: false });

export class TopicIndex {
  private readonly root = level();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(topic: string): void {
    let n = this.root;
    for (const l of topic.split('/')) {
      n.children ??= new Map();
      let c = n.children.get(l);
      if (!c) n.children.set(l, (c = level()));
      n = c;
    }
    if (!n.here) this.count++;
    n.here = true;
  }

  remove(topic: string): void {
    const path: [Level, string][] = [];
    let n: Level | undefined = this.root;
    for (const l of topic.split('/')) {
      path.push([n, l]);
      n = n.children?.get(l);
      if (!n) return;
    }
    if (!n.here) return;
    n.here = false;
    this.count--;
    for (let i = path.length - 1; i >= 0; i--) {
      const [parent, l] = path[i]!;
      const child = parent.children!.get(l)!;
      if (child.here || (child.children && child.children.size > 0)) break;
      parent.children!.delete(l);
    }
  }

  /** Topics matching `filter`. */
  match(filter: string): string[] {
    const out: string[] = [];
    this.walk(this.root, filter.split('/'), 0, [], out);
    return out;
  }

  private walk(n: Level, f: string[], i: number, path: string[], out: string[]): void {
    if (i === f.length) {
      if (n.here) out.push(path.join('/'));
      return;
    }
    const l = f[i]!;
    if (l === '#') {
      // '#' also matches the parent level itself ('a/#' matches 'a').
      if (i > 0 && n.here) out.push(path.join('/'));
      this.all(n, path, i === 0, out);
      return;
    }
    if (!n.children) return;
    if (l === '+') {
      for (const [name, c] of n.children) {
        if (i === 0 && name.startsWith('$')) continue;
        path.push(name);
        this.walk(c, f, i + 1, path, out);
        path.pop();
      }
      return;
    }
    const c = n.children.get(l);
    if (!c) return;
    path.push(l);
    this.walk(c, f, i + 1, path, out);
    path.pop();
  }

  /** Every topic below `n` (`root`: not the `$` ones). */
  private all(n: Level, path: string[], root: boolean, out: string[]): void {
    if (!n.children) return;
    for (const [name, c] of n.children) {
      if (root && name.startsWith('$')) continue;
      path.push(name);
      if (c.here) out.push(path.join('/'));
      this.all(c, path, false, out);
      path.pop();
    }
  }
}
