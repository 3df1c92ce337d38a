/**
 * Forwarding REST actions to the node that holds a connection: kick (DELETE) and ping-now (POST
 * .../ping). A request is an entry in the owner's inbox stream (`{vigil}:inbox:<node>`, read by
 * its feed reader's XREAD) with a request id, the asker and a deadline; the owner acts through its
 * liveness handle, exactly as a local request would, and answers into the asker's inbox. No answer
 * by the deadline: the asker answers 504 (VIGIL_ERR_CLUSTER_FORWARD_TIMEOUT). A stream rather than
 * pub/sub so a command sent while the owner's reader reconnects is still read; a request read after
 * its deadline is dropped (the asker has answered already). Losing one is safe: ownership rests on
 * the generation compare-and-set, never on delivery (research/cluster-anchors.md, Trap 3).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { EndpointKey, LivenessRegistry, ProbeNowResult } from '../liveness/types.js';
import type { Clock } from '../time/clock.js';
import type { Scheduler, TimerHandle } from '../time/scheduler.js';
import type { StreamEntry } from './feed-reader.js';
import { K } from './keys.js';
import type { RedisLink } from './redis.js';

export type ForwardRequest = { op: 'kick'; key: EndpointKey } | { op: 'ping'; key: EndpointKey };

export type ForwardResult =
  | { kind: 'kicked'; ids: { id: string; generation: number }[] }
  | { kind: 'ping'; result: ProbeNowResult; id: string }
  | { kind: 'not_found' }
  | { kind: 'timeout' };

interface Pending {
  resolve(r: ForwardResult): void;
  timer: TimerHandle;
}

const INBOX_MAXLEN = '10000';

export interface CommandDeps {
  link: RedisLink;
  nodeId: string;
  liveness: LivenessRegistry;
  clock: Clock;
  scheduler: Scheduler;
  logger: Logger;
  /** The cluster generation of a local connection (for kick answers). */
  generationOf(key: EndpointKey): number;
  /** Count an event in /metrics. */
  count(event: 'forwarded' | 'stanza'): void;
}

export class CommandChannel {
  private readonly pending = new Map<string, Pending>();
  private readonly prefix = randomBytes(4).toString('hex');
  private n = 0;
  forwarded = 0;
  served = 0;
  stanzas = 0;

  constructor(private readonly d: CommandDeps) {}

  /** Ask `node` to act; resolves `timeout` after `timeoutMs` without an answer. */
  request(node: string, req: ForwardRequest, timeoutMs: number): Promise<ForwardResult> {
    const rid = `${this.prefix}-${(++this.n).toString(36)}`;
    this.forwarded++;
    this.d.count('forwarded');
    return new Promise((resolve) => {
      const timer = this.d.scheduler.setTimer(timeoutMs, () => {
        this.pending.delete(rid);
        resolve({ kind: 'timeout' });
      });
      this.pending.set(rid, { resolve, timer });
      const deadline = this.d.clock.now() + timeoutMs;
      const inbox = K.inbox(node);
      this.d.link
        .send(inbox, ['XADD', inbox, 'MAXLEN', '~', INBOX_MAXLEN, '*', 'rid', rid, 'from', this.d.nodeId, 'dl', String(deadline), 'req', JSON.stringify(req)])
        .catch((err: unknown) => this.d.logger.warn({ event: 'cluster_forward_failed', node, err: String(err) }, 'could not forward a command'));
    });
  }

  private readonly stanzaHandlers: ((to: string, el: unknown) => void)[] = [];

  /** A one-way stanza for a session on `node` (XMPP across nodes); order per sender is kept. */
  sendStanza(node: string, to: string, el: unknown): void {
    const inbox = K.inbox(node);
    this.stanzas++;
    this.d.count('stanza');
    this.d.link
      .send(inbox, ['XADD', inbox, 'MAXLEN', '~', INBOX_MAXLEN, '*', 'xs', to, 'el', JSON.stringify(el)])
      .catch((err: unknown) => this.d.logger.warn({ event: 'cluster_stanza_failed', node, err: String(err) }, 'could not hand a stanza to its node'));
  }

  onStanza(handler: (to: string, el: unknown) => void): void {
    this.stanzaHandlers.push(handler);
  }

  /** Entries read from this node's inbox: requests to serve, answers to deliver. */
  handle(entries: StreamEntry[]): void {
    for (const e of entries) {
      const f = new Map<string, string>();
      for (let i = 0; i + 1 < e.fields.length; i += 2) f.set(e.fields[i]!, e.fields[i + 1]!);
      const rid = f.get('rid') ?? '';
      const res = f.get('res');
      if (res !== undefined) {
        const p = this.pending.get(rid);
        if (!p) continue;
        this.pending.delete(rid);
        p.timer.cancel();
        p.resolve(JSON.parse(res) as ForwardResult);
        continue;
      }
      const to = f.get('xs');
      if (to !== undefined) {
        const el = f.get('el');
        if (el) for (const h of this.stanzaHandlers) h(to, JSON.parse(el) as unknown);
        continue;
      }
      const from = f.get('from');
      const req = f.get('req');
      if (!from || !req || Number(f.get('dl') ?? 0) < this.d.clock.now()) continue;
      this.served++;
      void this.serve(JSON.parse(req) as ForwardRequest).then((result) => this.answer(from, rid, result));
    }
  }

  private async serve(req: ForwardRequest): Promise<ForwardResult> {
    const h = this.d.liveness.get(req.key);
    if (!h?.live) return { kind: 'not_found' };
    if (req.op === 'kick') {
      const generation = this.d.generationOf(req.key);
      h.kill('kicked');
      this.d.logger.info({ event: 'endpoint_kicked', host: req.key.host, transport: req.key.transport, ids: [req.key.id], forwarded: true }, 'endpoint kicked');
      return { kind: 'kicked', ids: [{ id: req.key.id, generation }] };
    }
    return { kind: 'ping', result: await h.probeNow(), id: req.key.id };
  }

  private answer(node: string, rid: string, result: ForwardResult): void {
    const inbox = K.inbox(node);
    this.d.link
      .send(inbox, ['XADD', inbox, 'MAXLEN', '~', INBOX_MAXLEN, '*', 'rid', rid, 'res', JSON.stringify(result)])
      .catch((err: unknown) => this.d.logger.warn({ event: 'cluster_answer_failed', node, err: String(err) }, 'could not answer a forwarded command'));
  }

  stop(): void {
    for (const p of this.pending.values()) {
      p.timer.cancel();
      p.resolve({ kind: 'timeout' });
    }
    this.pending.clear();
  }
}
