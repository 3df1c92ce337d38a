/**
 * Feeds the mirror from Redis on a connection of its own (blocking reads must not hold up writes):
 * a snapshot (the seq counter first, then every row in paging order, then the stream's tail for
 * resumable readers), then one `XREAD BLOCK` loop over three streams of the `{vigil}` slot: the
 * change feed, this node's inbox (forwarded commands and replies) and the control stream.
 *
 * A Redis that lost its data (restart without persistence) shows as a seq counter below what the
 * mirror has read: the mirror is rebuilt from a new snapshot (readers behind it get 410 / `gone`).
 */
import type { Logger } from 'pino';
import { K, seqOf } from './keys.js';
import type { Mirror } from './mirror.js';
import type { RawEntry } from './mirror-fields.js';
import type { RedisLink } from './redis.js';
import { ROWS } from './scripts.js';

export interface StreamEntry {
  id: string;
  fields: string[];
}

type XreadReply = [string, [string, string[]][]][] | null;

const PAGE = 1_000;
/** After a short read, wait this long before the next XREAD so entries of a burst come in one (fewer round trips). */
const GATHER_MS = 1;
const BLOCK_MS = 1_000;
/** How often an idle loop checks that Redis did not go back in time (lost data). */
const RESET_CHECK_MS = 3_000;

export interface FeedReaderDeps {
  link: RedisLink;
  mirror: Mirror;
  inboxKey: string;
  logger: Logger;
  onInbox(entries: StreamEntry[]): void;
  onControl(entries: StreamEntry[]): void;
  /** Wall clock for the reset check pacing. */
  now(): number;
}

async function lastId(link: RedisLink, key: string): Promise<string> {
  const r = (await link.send(key, ['XREVRANGE', key, '+', '-', 'COUNT', '1'])) as [string, string[]][];
  return r[0]?.[0] ?? '0-0';
}

export class FeedReader {
  private running = false;
  private loop: Promise<void> | null = null;
  private inboxAfter = '0-0';
  private ctlAfter = '0-0';
  private lastResetCheck = 0;
  /** Snapshots taken (1 at start; more after Redis lost data). */
  snapshots = 0;

  constructor(private readonly d: FeedReaderDeps) {}

  async start(): Promise<void> {
    this.inboxAfter = await lastId(this.d.link, this.d.inboxKey);
    this.ctlAfter = await lastId(this.d.link, K.ctl);
    await this.snapshot();
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.d.link.close(true);
    await this.loop?.catch(() => undefined);
  }

  /** Rebuild the mirror from Redis: seq first, then rows, then the stream tail before that seq. */
  async snapshot(): Promise<void> {
    const { link, mirror } = this.d;
    const seq = Number((await link.send(K.seq, ['GET', K.seq])) ?? 0);
    mirror.reset(seq);
    for (let start = 0; ; start += PAGE) {
      const names = (await link.send(K.eps, ['ZRANGE', K.eps, String(start), String(start + PAGE - 1)])) as string[];
      if (names.length === 0) break;
      const rows = (await link.script(ROWS, [K.eps], names)) as string[][];
      names.forEach((n, i) => {
        const f = rows[i];
        if (f && f.length > 0) mirror.load(n, f);
      });
      if (names.length < PAGE) break;
    }
    const from = Math.max(1, seq - mirror.feedSize + 1);
    for (let after = from - 1; after < seq; ) {
      const r = (await link.send(K.feed, ['XRANGE', K.feed, `(${after}-0`, `${seq}-0`, 'COUNT', String(PAGE)])) as [string, string[]][];
      if (r.length === 0) break;
      mirror.preload(r.map(([id, fields]) => ({ seq: seqOf(id), fields })));
      after = seqOf(r[r.length - 1]![0]);
    }
    this.snapshots++;
  }

  private async run(): Promise<void> {
    const { link, mirror } = this.d;
    while (this.running) {
      try {
        const r = (await link.send(K.feed, [
          'XREAD', 'COUNT', String(PAGE), 'BLOCK', String(BLOCK_MS), 'STREAMS', K.feed, this.d.inboxKey, K.ctl,
          `${mirror.lastSeq()}-0`, this.inboxAfter, this.ctlAfter,
        ])) as XreadReply;
        if (!r) {
          await this.checkReset();
          continue;
        }
        let got = 0;
        for (const [stream, entries] of r) {
          got += entries.length;
          if (entries.length === 0) continue;
          const last = entries[entries.length - 1]![0];
          if (stream === K.feed) {
            for (const [id, fields] of entries) mirror.apply({ seq: seqOf(id), fields } satisfies RawEntry);
          } else if (stream === this.d.inboxKey) {
            this.inboxAfter = last;
            this.d.onInbox(entries.map(([id, fields]) => ({ id, fields })));
          } else {
            this.ctlAfter = last;
            this.d.onControl(entries.map(([id, fields]) => ({ id, fields })));
          }
        }
        if (got < PAGE / 10) await new Promise((res) => setTimeout(res, GATHER_MS));
      } catch (err) {
        if (!this.running) return;
        this.d.logger.warn({ event: 'cluster_feed_read_failed', err: String(err) }, 'feed read failed, retrying');
        await new Promise((res) => setTimeout(res, 200));
        await this.checkReset(true).catch(() => undefined);
      }
    }
  }

  private async checkReset(force = false): Promise<void> {
    const now = this.d.now();
    if (!force && now - this.lastResetCheck < RESET_CHECK_MS) return;
    this.lastResetCheck = now;
    const seq = Number((await this.d.link.send(K.seq, ['GET', K.seq])) ?? 0);
    if (seq >= this.d.mirror.lastSeq()) return;
    this.d.logger.warn({ event: 'cluster_feed_reset', redis_seq: seq, mirror_seq: this.d.mirror.lastSeq() }, 'Redis went back in time (lost data): rebuilding the mirror');
    this.inboxAfter = '0-0';
    this.ctlAfter = '0-0';
    await this.snapshot();
  }
}
