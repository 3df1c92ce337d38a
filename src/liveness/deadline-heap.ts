/**
 * Binary min-heap of armed deadlines: one entry per endpoint, keyed by (deadline ms, arm sequence).
 *
 * Invariants:
 *   - an entry is in the heap iff `heapIndex >= 0`, and then `heap[heapIndex] === entry`;
 *   - equal deadlines pop in arm order (FIFO), like Node's timer lists: `seq` grows on every push;
 *   - `remove()` is O(log n) through the stored index, so untrack frees the slot at once (no tombstones).
 *
 * `seq` is kept a small integer (a V8 Smi, no boxed double per endpoint): when it would pass 2^30 the
 * heap is sorted and renumbered, which keeps every tie order and is itself a valid heap.
 */
export interface HeapEntry {
  deadline: number;
  seq: number;
  heapIndex: number;
}

const SEQ_LIMIT = 2 ** 30;

export class DeadlineHeap<T extends HeapEntry> {
  private items: T[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  /** Arm `entry` at `deadline`; an entry already in the heap is moved. */
  push(entry: T, deadline: number): void {
    if (entry.heapIndex >= 0) this.remove(entry);
    if (this.nextSeq >= SEQ_LIMIT) this.renumber();
    entry.deadline = deadline;
    entry.seq = this.nextSeq++;
    const i = this.items.length;
    this.items.push(entry);
    entry.heapIndex = i;
    this.up(i);
  }

  pop(): T | undefined {
    const top = this.items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  remove(entry: T): void {
    const i = entry.heapIndex;
    if (i < 0) return;
    entry.heapIndex = -1;
    const last = this.items.pop() as T;
    if (i === this.items.length) return;
    this.items[i] = last;
    last.heapIndex = i;
    if (i > 0 && this.less(last, this.items[(i - 1) >> 1] as T)) this.up(i);
    else this.down(i);
  }

  /** Drop every entry (shutdown). */
  clear(): void {
    for (const e of this.items) e.heapIndex = -1;
    this.items = [];
  }

  private less(a: T, b: T): boolean {
    return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
  }

  private up(i: number): void {
    const items = this.items;
    const e = items[i] as T;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = items[p] as T;
      if (!this.less(e, parent)) break;
      items[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    items[i] = e;
    e.heapIndex = i;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const e = items[i] as T;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && this.less(items[r] as T, items[l] as T)) c = r;
      const child = items[c] as T;
      if (!this.less(child, e)) break;
      items[i] = child;
      child.heapIndex = i;
      i = c;
    }
    items[i] = e;
    e.heapIndex = i;
  }

  private renumber(): void {
    this.items.sort((a, b) => a.deadline - b.deadline || a.seq - b.seq);
    this.items.forEach((e, i) => {
      e.seq = i;
      e.heapIndex = i;
    });
    this.nextSeq = this.items.length;
  }
}
