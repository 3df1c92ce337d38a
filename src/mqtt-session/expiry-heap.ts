/**
 * Binary min-heap of offline session deadlines (wall ms), each entry knowing its index so a resume
 * removes it in O(log n). The manager keeps one expiry timer at the top of it.
 */
export interface Expiring {
  heapIndex: number;
  expiresAt: number | null;
}

export class ExpiryHeap<T extends Expiring> {
  private items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  /** Earliest deadline, Infinity when empty. */
  peekDeadline(): number {
    return this.items[0]?.expiresAt ?? Infinity;
  }

  /** Insert or move `e` at its current `expiresAt` (must not be null). */
  push(e: T): void {
    if (e.heapIndex >= 0) this.remove(e);
    e.heapIndex = this.items.length;
    this.items.push(e);
    this.up(e.heapIndex);
  }

  pop(): T | undefined {
    const top = this.items[0];
    if (top) this.remove(top);
    return top;
  }

  remove(e: T): void {
    const i = e.heapIndex;
    if (i < 0) return;
    e.heapIndex = -1;
    const last = this.items.pop()!;
    if (last === e) return;
    this.items[i] = last;
    last.heapIndex = i;
    this.up(i);
    this.down(last.heapIndex);
  }

  private key(i: number): number {
    return this.items[i]!.expiresAt ?? Infinity;
  }

  private swap(i: number, j: number): void {
    const a = this.items[i]!;
    const b = this.items[j]!;
    this.items[i] = b;
    this.items[j] = a;
    a.heapIndex = j;
    b.heapIndex = i;
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.key(p) <= this.key(i)) return;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.items.length && this.key(l) < this.key(m)) m = l;
      if (r < this.items.length && this.key(r) < this.key(m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
