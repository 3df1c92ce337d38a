/**
 * Resumable sessions by SM-ID (XEP-0198 §5), and the final `h` of those that timed out.
 *
 * An SM-ID is random and never reused (§5: "MUST NOT be reused for simultaneous or subsequent
 * sessions"); one from before a restart is simply unknown. A lookup only finds a session of the
 * same account (§9: resumption only after authentication; another account's SM-ID is unknown to
 * it, not "someone else's"). The timed-out ones are remembered so that a late <resume/> gets
 * <failed h='…'/> (§5), at most `remember` of them, oldest forgotten first.
 */
export interface Resumable {
  readonly bare: string;
}

export type Lookup<S> = { kind: 'found'; session: S } | { kind: 'unknown'; h: number | null };

export class SmRegistry<S extends Resumable> {
  private readonly live = new Map<string, S>();
  private readonly timedOut = new Map<string, { bare: string; h: number }>();

  constructor(private readonly remember = 10_000) {}

  get size(): number {
    return this.live.size;
  }

  add(id: string, s: S): void {
    this.live.set(id, s);
  }

  lookup(id: string, bare: string): Lookup<S> {
    const s = this.live.get(id);
    if (s !== undefined && s.bare === bare) return { kind: 'found', session: s };
    const t = this.timedOut.get(id);
    return { kind: 'unknown', h: t !== undefined && t.bare === bare ? t.h : null };
  }

  /** The session ended; `h` when it timed out waiting for a resume (then remembered). */
  forget(id: string, bare: string, h: number | null): void {
    this.live.delete(id);
    if (h === null) return;
    this.timedOut.set(id, { bare, h });
    if (this.timedOut.size > this.remember) this.timedOut.delete(this.timedOut.keys().next().value as string);
  }
}
