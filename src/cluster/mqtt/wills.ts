/**
 * Wills of one host in cluster mode: an outbox in Redis, written in the same batches as the
 * sessions, so a node that dies leaves its clients' wills where the survivor sweeping it finds them.
 *
 *   opened(client)   CONNACK waits for the record (`wo`): the will (if any) with its connection,
 *                    node and epoch. A delayed will of an earlier connection of the client id is
 *                    cancelled [MQTT-3.1.3-9, 5.0 §3.1.3.2.2]; the live will of a connection this one
 *                    takes over is published now if it has no delay, as on one node.
 *   closed(...)      not due: discarded (`wx`); due without delay: published by this node with the
 *                    record as guard (`p` + gw); due after a delay: due in Redis (`wd`, wdue ZSET).
 *   a dead node      its sweeper makes each of its live wills due after its delay (MSWEEP).
 *   due wills        any node's maintenance (maintenance.ts) reads them and publishes each one as a
 *                    guarded `p` op: the op deletes the record, so a will read by two nodes (or by a
 *                    node that dies after reading it) is published exactly once.
 * The ACL is checked when the will is published, as on one node.
 */
import { randomBytes } from 'node:crypto';
import type { DisconnectReason } from '../../liveness/types.js';
import type { HostPolicy } from '../../mqtt/channel.js';
import type { Message } from '../../mqtt/message.js';
import type { WillOwner, WillScheduler } from '../../mqtt/wills.js';
import type { Batcher } from './batcher.js';
import { decodeMessage, encodeMessage } from './codec.js';
import { sessionKey } from './keys.js';
import type { ClusterRouter } from './router.js';

export interface ClusterWillDeps {
  host: string;
  nodeId: string;
  policy: Pick<HostPolicy, 'acl' | 'mqtt'>;
  batcher: Batcher;
  router: ClusterRouter;
  nowMs(): number;
  aclDenied(): void;
  /** Look for due wills soon (a will became due now, or at `inMs`). */
  wake(inMs: number): void;
}

/** A due will as MAINT answers it. */
export interface DueWill {
  sk: string;
  conn: string;
  expiryS: number | null;
  username: string | null;
  clientId: string;
  blob: Buffer;
}

export class ClusterWillScheduler implements WillScheduler {
  private readonly tokens = new WeakMap<WillOwner, string>();
  private readonly nonce = randomBytes(4).toString('hex');
  private serial = 0;
  /** Wills published by this node (tests, metrics). */
  published = 0;
  /** Delayed wills this node made due, by session key -> due time (wall ms). */
  private readonly delayed = new Map<string, number>();

  constructor(private readonly d: ClusterWillDeps) {}

  /** Delayed wills this node made due that are not due yet (the cluster's are in Redis). */
  get pending(): number {
    const now = this.d.nowMs();
    for (const [k, at] of this.delayed) if (at <= now) this.delayed.delete(k);
    return this.delayed.size;
  }

  opened(client: WillOwner): Promise<void> {
    const c = `${this.d.nodeId}:${this.nonce}:${(++this.serial).toString(36)}`;
    this.tokens.set(client, c);
    this.delayed.delete(sessionKey(this.d.host, client.clientId));
    const w = client.will;
    const op: Record<string, unknown> = { o: 'wo', k: sessionKey(this.d.host, client.clientId), c };
    if (w) {
      op.b = this.d.batcher.blob(encodeMessage({ topic: w.topic, payload: w.payload, qos: w.qos, retain: w.retain, properties: w.properties, expiresAt: null, senderId: client.clientId }));
      op.d = Math.min(w.delayS, client.sessionExpiryS) * 1000;
      op.x = w.expiryS === null ? '' : String(w.expiryS);
      op.u = client.username ?? '';
    }
    return new Promise((resolve) => {
      this.d.batcher.push(op, (r) => {
        if (Number(r) === 1) this.d.wake(0); // a taken-over connection's will is due now
        resolve();
      });
    });
  }

  closed(client: WillOwner, reason: DisconnectReason, due: boolean): void {
    const c = this.tokens.get(client);
    const w = client.will;
    if (c === undefined || !w) return;
    const k = sessionKey(this.d.host, client.clientId);
    const delayS = Math.min(w.delayS, client.sessionExpiryS);
    if (!due || (delayS > 0 && reason === 'taken_over')) {
      this.d.batcher.push({ o: 'wx', k, c });
      return;
    }
    if (delayS > 0) {
      this.d.batcher.push({ o: 'wd', k, c, d: delayS * 1000 });
      this.delayed.set(k, this.d.nowMs() + delayS * 1000);
      this.d.wake(delayS * 1000);
      return;
    }
    const msg: Message = { topic: w.topic, payload: w.payload, qos: w.qos, retain: w.retain, properties: w.properties, expiresAt: null, senderId: client.clientId };
    this.publish(msg, w.expiryS, client.username, [k, c, 'live']);
  }

  /** Due wills of this host read by maintenance: publish each (once in the cluster: guarded). */
  fire(due: readonly DueWill[]): void {
    for (const w of due) this.publish(decodeMessage(w.blob), w.expiryS, w.username, [w.sk, w.conn, 'due'], w.clientId);
  }

  private publish(msg: Message, expiryS: number | null, username: string | null, guard: [string, string, 'live' | 'due'], clientId = msg.senderId): void {
    if (!this.d.policy.acl.allows('publish', msg.topic, { username, clientId })) {
      this.d.aclDenied();
      this.d.batcher.push(guard[2] === 'live' ? { o: 'wx', k: guard[0], c: guard[1] } : { o: 'wz', k: guard[0], c: guard[1] });
      return;
    }
    const will: Message = { ...msg, expiresAt: expiryS === null ? null : this.d.nowMs() + expiryS * 1000 };
    const retain = will.retain && this.d.policy.mqtt.retain_available ? (will.payload.length === 0 ? 2 : 1) : undefined;
    this.d.router.forward(will, { will: guard, ...(retain ? { retain } : {}) }, (ok) => {
      if (!ok) return;
      this.published++;
      this.d.router.deliverHere(will); // this node's subscribers, once the record is gone
    });
  }

  /** Nothing to cancel here: delayed wills wait in Redis, and a stopping node's are not due (shutdown). */
  shutdown(): void {
    this.delayed.clear();
  }
}
