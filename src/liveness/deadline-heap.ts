/**
 * Min-heap of armed deadlines: at most one live item per endpoint, keyed by (deadline ms, arm sequence).
 *
 * Layout: a 4-ary heap whose keys live in Float64Arrays parallel to the item array, and removal is
 * lazy, so a sift touches only those arrays and never an endpoint object. At a million entries every
 * object dereference is a cache miss; keeping positions in the objects cost about twice as much per
 * pop (see docs/benchmarks.md).
 *
 * Invariants:
 *   - each push gives the entry a new arm number (`armGen`, a small integer, wrapping at 2^30) and
 *     records it with the item; an item is live iff its entry's `armGen` still equals it. `remove()`
 *     flips `armGen` negative (unarmed) in O(1) and leaves a stale item behind;
 *   - stale items are dropped when they reach the top, and the heap is rebuilt without them (O(n))
 *     whenever they outnumber the live ones, so memory returns after churn;
 *   - equal deadlines pop in arm order (FIFO), like Node's timer lists: the sequence grows on every
 *     push and is a double (2^53 pushes), and the rebuild keeps every key.
 */
export interface HeapEntry {
  /** Arm number of the entry's live item; negative (bitwise not of the last one) when not armed. */
  armGen: number;
}

const MIN_CAPACITY = 64;
const GEN_MASK = 0x3fff_ffff;

export class DeadlineHeap<T extends HeapEntry> {
  private items: (T | undefined)[] = [];
  private deadlines = new Float64Array(MIN_CAPACITY);
  private seqs = new Float64Array(MIN_CAPACITY);
  private gens = new Int32Array(MIN_CAPACITY);
  private n = 0;
  private live = 0;
  private nextSeq = 0;

  /** Number of armed entries. */
  get size(): number {
    return this.live;
  }

  has(entry: T): boolean {
    return entry.armGen >= 0;
  }

  /** Deadline of the earliest armed entry (Infinity when none). */
  peekDeadline(): number {
    this.dropStaleTop();
    return this.n > 0 ? (this.deadlines[0] as number) : Infinity;
  }

  /** Arm `entry` at `deadline`, behind every entry already armed at that deadline; re-arms an armed one. */
  push(entry: T, deadline: number): void {
    const prev = entry.armGen;
    if (prev >= 0) this.live--;
    const gen = ((prev >= 0 ? prev : ~prev) + 1) & GEN_MASK;
    entry.armGen = gen;
    this.live++;
    if (this.n === this.deadlines.length) this.resize(this.n * 2);
    const i = this.n++;
    this.items.push(undefined);
    this.up(i, entry, deadline, this.nextSeq++, gen);
    if (prev >= 0) this.maybeCompact();
  }

  /** Remove and return the earliest armed entry. */
  pop(): T | undefined {
    this.dropStaleTop();
    if (this.n === 0) return undefined;
    const top = this.items[0] as T;
    this.removeTop();
    top.armGen = ~top.armGen;
    this.live--;
    return top;
  }

  /** Disarm `entry` (O(1)); its item is dropped later. */
  remove(entry: T): void {
    if (entry.armGen < 0) return;
    entry.armGen = ~entry.armGen;
    this.live--;
    this.maybeCompact();
  }

  /** Drop every entry (shutdown). */
  clear(): void {
    for (let i = 0; i < this.n; i++) {
      const e = this.items[i] as T;
      if (e.armGen === this.gens[i]) e.armGen = ~e.armGen;
    }
    this.items = [];
    this.n = 0;
    this.live = 0;
    this.resize(MIN_CAPACITY);
  }

  private isLive(i: number): boolean {
    return (this.items[i] as T).armGen === this.gens[i];
  }

  private dropStaleTop(): void {
    while (this.n > 0 && !this.isLive(0)) this.removeTop();
  }

  private removeTop(): void {
    const last = --this.n;
    const moved = this.items.pop() as T;
    if (last > 0) {
      this.down(0, moved, this.deadlines[last] as number, this.seqs[last] as number, this.gens[last] as number);
    }
    if (this.n < this.deadlines.length >> 2 && this.deadlines.length > MIN_CAPACITY) {
      this.resize(this.deadlines.length >> 1);
    }
  }

  /** Rebuild without stale items once they outnumber the live ones (amortised O(1) per removal). */
  private maybeCompact(): void {
    if (this.n - this.live <= this.live || this.n < MIN_CAPACITY) return;
    let k = 0;
    for (let i = 0; i < this.n; i++) {
      if (!this.isLive(i)) continue;
      this.items[k] = this.items[i];
      this.deadlines[k] = this.deadlines[i] as number;
      this.seqs[k] = this.seqs[i] as number;
      this.gens[k] = this.gens[i] as number;
      k++;
    }
    this.items.length = k;
    this.n = k;
    for (let i = (k - 2) >> 2; i >= 0; i--) {
      this.down(i, this.items[i] as T, this.deadlines[i] as number, this.seqs[i] as number, this.gens[i] as number);
    }
    let capacity = this.deadlines.length;
    while (capacity > MIN_CAPACITY && k < capacity >> 2) capacity >>= 1;
    if (capacity !== this.deadlines.length) this.resize(capacity);
  }

  /** Whether key (d, s) sorts before the key at position j. */
  private less(d: number, s: number, j: number): boolean {
    const dj = this.deadlines[j] as number;
    return d < dj || (d === dj && s < (this.seqs[j] as number));
  }

  /** Place the item at hole i, moving parents down while its key is smaller. */
  private up(i: number, e: T, d: number, s: number, g: number): void {
    const { items, deadlines, seqs, gens } = this;
    while (i > 0) {
      const p = (i - 1) >> 2;
      if (!this.less(d, s, p)) break;
      items[i] = items[p];
      deadlines[i] = deadlines[p] as number;
      seqs[i] = seqs[p] as number;
      gens[i] = gens[p] as number;
      i = p;
    }
    this.place(i, e, d, s, g);
  }

  /** Place the item at hole i, moving the smallest child up while it is smaller. */
  private down(i: number, e: T, d: number, s: number, g: number): void {
    const { items, deadlines, seqs, gens, n } = this;
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
      items[i] = items[c];
      deadlines[i] = dc;
      seqs[i] = sc;
      gens[i] = gens[c] as number;
      i = c;
    }
    this.place(i, e, d, s, g);
  }

  private place(i: number, e: T, d: number, s: number, g: number): void {
    this.items[i] = e;
    this.deadlines[i] = d;
    this.seqs[i] = s;
    this.gens[i] = g;
  }

  private resize(capacity: number): void {
    const size = Math.max(capacity, MIN_CAPACITY);
    const deadlines = new Float64Array(size);
    const seqs = new Float64Array(size);
    const gens = new Int32Array(size);
    deadlines.set(this.deadlines.subarray(0, this.n));
    seqs.set(this.seqs.subarray(0, this.n));
    gens.set(this.gens.subarray(0, this.n));
    this.deadlines = deadlines;
    this.seqs = seqs;
    this.gens = gens;
  }
}
