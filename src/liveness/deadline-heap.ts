/**
 * Min-heap of armed deadlines: one entry per endpoint, keyed by (deadline ms, arm sequence).
 *
 * Layout: a 4-ary heap whose keys live in two Float64Arrays parallel to the entry array, so a sift
 * compares contiguous numbers instead of dereferencing an endpoint object per comparison (at a
 * million entries each dereference is a cache miss; see docs/benchmarks.md). The only object write
 * per level is the moved entry's `heapIndex`.
 *
 * Invariants:
 *   - an entry is in the heap iff `heapIndex >= 0`, and then `items[heapIndex] === entry`;
 *   - equal deadlines pop in arm order (FIFO), like Node's timer lists: the sequence grows on every
 *     push and is a double, so it never wraps (2^53 arms);
 *   - `remove()` is O(log n) through the stored index, so untrack frees the slot at once, and the key
 *     arrays shrink when the heap falls to a quarter of their capacity: memory returns after churn.
 */
export interface HeapEntry {
  heapIndex: number;
}

const MIN_CAPACITY = 64;

export class DeadlineHeap<T extends HeapEntry> {
  private items: T[] = [];
  private deadlines = new Float64Array(MIN_CAPACITY);
  private seqs = new Float64Array(MIN_CAPACITY);
  private n = 0;
  private nextSeq = 0;

  get size(): number {
    return this.n;
  }

  peek(): T | undefined {
    return this.n > 0 ? this.items[0] : undefined;
  }

  /** Deadline of the earliest entry (Infinity when empty). */
  peekDeadline(): number {
    return this.n > 0 ? (this.deadlines[0] as number) : Infinity;
  }

  /** Deadline an armed entry is keyed by, or null when it is not in the heap. */
  deadlineOf(entry: T): number | null {
    return entry.heapIndex >= 0 ? (this.deadlines[entry.heapIndex] as number) : null;
  }

  /** Arm `entry` at `deadline` (behind every entry already armed at that deadline); moves an armed entry. */
  push(entry: T, deadline: number): void {
    if (entry.heapIndex >= 0) this.remove(entry);
    if (this.n === this.deadlines.length) this.resize(this.n * 2);
    this.up(this.n++, entry, deadline, this.nextSeq++);
  }

  pop(): T | undefined {
    if (this.n === 0) return undefined;
    const top = this.items[0] as T;
    this.remove(top);
    return top;
  }

  remove(entry: T): void {
    const i = entry.heapIndex;
    if (i < 0) return;
    entry.heapIndex = -1;
    const last = --this.n;
    const moved = this.items.pop() as T;
    const d = this.deadlines[last] as number;
    const s = this.seqs[last] as number;
    if (i !== last) {
      if (i > 0 && this.less(d, s, (i - 1) >> 2)) this.up(i, moved, d, s);
      else this.down(i, moved, d, s);
    }
    if (this.n < this.deadlines.length >> 2 && this.deadlines.length > MIN_CAPACITY) {
      this.resize(this.deadlines.length >> 1);
    }
  }

  /** Drop every entry (shutdown). */
  clear(): void {
    for (let i = 0; i < this.n; i++) (this.items[i] as T).heapIndex = -1;
    this.items = [];
    this.n = 0;
    this.resize(MIN_CAPACITY);
  }

  /** Whether key (d, s) sorts before the key at position j. */
  private less(d: number, s: number, j: number): boolean {
    const dj = this.deadlines[j] as number;
    return d < dj || (d === dj && s < (this.seqs[j] as number));
  }

  /** Place (e, d, s) at hole i, moving parents down while the key is smaller. */
  private up(i: number, e: T, d: number, s: number): void {
    const { items, deadlines, seqs } = this;
    while (i > 0) {
      const p = (i - 1) >> 2;
      if (!this.less(d, s, p)) break;
      const parent = items[p] as T;
      items[i] = parent;
      deadlines[i] = deadlines[p] as number;
      seqs[i] = seqs[p] as number;
      parent.heapIndex = i;
      i = p;
    }
    this.place(i, e, d, s);
  }

  /** Place (e, d, s) at hole i, moving the smallest child up while it is smaller. */
  private down(i: number, e: T, d: number, s: number): void {
    const { items, deadlines, seqs, n } = this;
    for (;;) {
      const first = 4 * i + 1;
      if (first >= n) break;
      let c = first;
      const end = Math.min(first + 4, n);
      for (let k = first + 1; k < end; k++) {
        if (this.less(deadlines[k] as number, seqs[k] as number, c)) c = k;
      }
      const dc = deadlines[c] as number;
      const sc = seqs[c] as number;
      if (!(dc < d || (dc === d && sc < s))) break;
      const child = items[c] as T;
      items[i] = child;
      deadlines[i] = dc;
      seqs[i] = sc;
      child.heapIndex = i;
      i = c;
    }
    this.place(i, e, d, s);
  }

  private place(i: number, e: T, d: number, s: number): void {
    this.items[i] = e;
    this.deadlines[i] = d;
    this.seqs[i] = s;
    e.heapIndex = i;
  }

  private resize(capacity: number): void {
    const deadlines = new Float64Array(Math.max(capacity, MIN_CAPACITY));
    const seqs = new Float64Array(deadlines.length);
    deadlines.set(this.deadlines.subarray(0, this.n));
    seqs.set(this.seqs.subarray(0, this.n));
    this.deadlines = deadlines;
    this.seqs = seqs;
  }
}
