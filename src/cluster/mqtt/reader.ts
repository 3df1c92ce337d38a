/**
 * Reads the MQTT streams of this node on a connection of its own (a blocking read must not hold up
 * writes), Buffers in, so payloads stay binary: one `XREAD BLOCK` over this node's inbox
 * (`mi:<node>`: messages forwarded to it, notices of session queue entries) and the route log
 * (`mlog`: route table and retained index changes). Route changes are applied first, then the
 * inbox entries in order. A stream trimmed past the position read is not an error here: the
 * inbox holds only what this incarnation was sent after it started, the log is read from the
 * position the table was loaded at.
 */
import type { Logger } from 'pino';
import type { RedisLink } from '../redis.js';
import { MK } from './keys.js';

type Entry = [Buffer, Buffer[]];
type XreadReply = [Buffer, Entry[]][] | null;

export interface InboxItem {
  /** `p`: a message for this node's subscribers; `q`: a notice `<client id>\0<entry id>\0<delivery blob>`. */
  kind: 'p' | 'q';
  host: string;
  value: Buffer;
}

export interface ReaderDeps {
  link: RedisLink;
  nodeId: string;
  logger: Logger;
  /** Route log entries: kind, host, key, field. */
  onLog(kind: string, host: string, k: string, f: string): void;
  /** The items of one inbox entry, in order. */
  onInbox(items: InboxItem[]): void;
}

const COUNT = '500';
const BLOCK_MS = '1000';

export class StreamReader {
  private running = false;
  private loop: Promise<void> | null = null;
  private inboxAfter = '$';
  private logAfter = '0-0';
  /** Read calls that returned entries (tests, the wakeup figures of the bench). */
  reads = 0;

  constructor(private readonly d: ReaderDeps) {}

  /** Start reading: the log after `logFrom`, the inbox from now on. */
  async start(logFrom: string): Promise<void> {
    this.logAfter = logFrom;
    const key = MK.inbox(this.d.nodeId);
    const last = (await this.d.link.send(key, ['XREVRANGE', key, '+', '-', 'COUNT', '1'])) as [string, string[]][];
    this.inboxAfter = last[0]?.[0] ?? '0-0';
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.d.link.close(true);
    await this.loop?.catch(() => undefined);
  }

  private async run(): Promise<void> {
    const inbox = MK.inbox(this.d.nodeId);
    while (this.running) {
      try {
        const r = (await this.d.link.sendBuf(inbox, ['XREAD', 'COUNT', COUNT, 'BLOCK', BLOCK_MS, 'STREAMS', MK.log, inbox, this.logAfter, this.inboxAfter])) as XreadReply;
        if (!r) continue;
        this.reads++;
        // The log first: a route added with a message of the same read is known before it is routed on.
        r.sort((a, b) => (String(a[0]) === MK.log ? -1 : String(b[0]) === MK.log ? 1 : 0));
        for (const [stream, entries] of r) {
          if (entries.length === 0) continue;
          if (String(stream) === MK.log) {
            for (const [, f] of entries) this.log(f);
            this.logAfter = String(entries[entries.length - 1]![0]);
          } else {
            for (const [, f] of entries) {
              const items: InboxItem[] = [];
              for (let i = 0; i + 1 < f.length; i += 2) items.push({ kind: f[i]![0] === 0x71 ? 'q' : 'p', host: f[i]!.toString('utf8', 1), value: f[i + 1]! });
              try {
                this.d.onInbox(items);
              } catch (err) {
                this.d.logger.error({ event: 'cluster_mqtt_inbox_failed', err }, 'MQTT inbox entry failed');
              }
            }
            this.inboxAfter = String(entries[entries.length - 1]![0]);
          }
        }
      } catch (err) {
        if (!this.running) return;
        this.d.logger.warn({ event: 'cluster_mqtt_read_failed', err: String(err) }, 'MQTT stream read failed, retrying');
        await new Promise((res) => setTimeout(res, 200));
      }
    }
  }

  private log(f: Buffer[]): void {
    let kind = '';
    let host = '';
    let k = '';
    let field = '';
    for (let i = 0; i + 1 < f.length; i += 2) {
      const v = f[i + 1]!.toString('utf8');
      switch (f[i]!.toString('latin1')) {
        case 't': kind = v; break;
        case 'h': host = v; break;
        case 'k': k = v; break;
        case 'f': field = v; break;
      }
    }
    try {
      this.d.onLog(kind, host, k, field);
    } catch (err) {
      this.d.logger.error({ event: 'cluster_mqtt_log_failed', err }, 'route log entry failed');
    }
  }
}
