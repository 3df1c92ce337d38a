/**
 * Rows of one host in creation order, for cursor paging in O(log n + page): an append-only array
 * sorted by `order` with removed rows skipped and compacted away when they are half of it.
 */
import type { Row } from './row.js';

export class HostIndex {
  private rows: Row[] = [];
  private removedCount = 0;

  append(row: Row): void {
    this.rows.push(row);
  }

  markRemoved(): void {
    this.removedCount++;
    if (this.removedCount > 1024 && this.removedCount * 2 > this.rows.length) {
      this.rows = this.rows.filter((r) => !r.removed);
      this.removedCount = 0;
    }
  }

  /** Rows with order > after, in order, that pass `keep`, at most `limit`; plus whether more exist. */
  page(after: number, limit: number, keep: (r: Row) => boolean): { rows: Row[]; more: boolean } {
    let lo = 0;
    let hi = this.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.rows[mid]!.order <= after) lo = mid + 1;
      else hi = mid;
    }
    const out: Row[] = [];
    for (let i = lo; i < this.rows.length; i++) {
      const r = this.rows[i]!;
      if (r.removed || !keep(r)) continue;
      if (out.length === limit) return { rows: out, more: true };
      out.push(r);
    }
    return { rows: out, more: false };
  }

  get length(): number {
    return this.rows.length - this.removedCount;
  }
}
