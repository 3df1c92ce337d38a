/**
 * The change feed: a bounded ring of ChangeEntry with monotonic sequence numbers starting at 1.
 * A reader asks for entries after seq N; if N is older than what the ring still holds, the reader
 * is told `gone` and must re-snapshot (REST answers 410). Memory is bounded by `capacity`.
 */
import type { ChangeEntry, FeedRead } from './types.js';

export class ChangeFeed {
  private readonly ring: (ChangeEntry | undefined)[];
  private last = 0;
  private readonly listeners = new Set<(e: ChangeEntry) => void>();

  constructor(readonly capacity: number) {
    this.ring = new Array<ChangeEntry | undefined>(capacity);
  }

  nextSeq(): number {
    return this.last + 1;
  }

  lastSeq(): number {
    return this.last;
  }

  /** Oldest sequence number still held (lastSeq + 1 when empty). */
  oldestSeq(): number {
    return Math.max(1, this.last - this.capacity + 1);
  }

  push(entry: ChangeEntry): void {
    if (entry.seq !== this.last + 1) throw new Error(`feed: seq ${entry.seq} out of order after ${this.last}`);
    this.last = entry.seq;
    this.ring[entry.seq % this.capacity] = entry;
    for (const l of this.listeners) l(entry);
  }

  read(afterSeq: number, limit: number): FeedRead {
    const after = Math.max(0, Math.floor(afterSeq));
    const oldest = this.oldestSeq();
    if (after < oldest - 1 && this.last > 0) return { kind: 'gone', oldest_seq: oldest, last_seq: this.last };
    const entries: ChangeEntry[] = [];
    for (let s = after + 1; s <= this.last && entries.length < limit; s++) {
      const e = this.ring[s % this.capacity];
      if (e) entries.push(e);
    }
    return { kind: 'ok', entries, last_seq: this.last };
  }

  onChange(listener: (e: ChangeEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
