/**
 * The will scheduler of one host. A will is published on any close without DISCONNECT
 * [MQTT-3.1.2-8] (keepalive timeout and takeover included), after the v5 Will Delay Interval or
 * the end of the session, whichever is first (v5 §3.1.3.2.2), never when a takeover keeps the
 * session alive in the new connection [MQTT-3.1.3-9]; a normal DISCONNECT discards it
 * [MQTT-3.1.2-10]. The publish check is the ACL's, made when the will fires.
 *
 *   opened(client)              -> a delayed will of an earlier connection of the id is cancelled
 *   closed(client, reason, due) -> due: publish now, or arm the delay; not due: nothing
 *
 * LocalWillScheduler keeps a delayed will as a timer per client id, in memory (a restart loses
 * it, as a crash of the whole broker does). A cluster scheduler (issue 16) records the will in an
 * outbox with the session when the client connects, so the survivor that sweeps a dead node
 * publishes it once: `opened` may then answer with a promise, and CONNACK waits for it.
 */
import type { DisconnectReason } from '../liveness/types.js';
import type { Scheduler, TimerHandle } from '../time/scheduler.js';
import type { Connected, HostPolicy } from './channel.js';
import type { Message } from './message.js';

/** What the scheduler needs of a client (its negotiated CONNECT state). */
export type WillOwner = Pick<Connected, 'clientId' | 'username' | 'will' | 'sessionExpiryS'>;

export interface WillScheduler {
  /** A connection of `client.clientId` was accepted (before its CONNACK). */
  opened(client: WillOwner): void | Promise<void>;
  /** The connection closed; `due`: its will is to be published (a close without DISCONNECT). */
  closed(client: WillOwner, reason: DisconnectReason, due: boolean): void;
  /** Delayed wills waiting (operators, tests). */
  readonly pending: number;
  /** Cancel every delayed will (graceful shutdown). */
  shutdown(): void;
}

export interface WillDeps {
  /** The host's ACL decides whether the will may be published. */
  policy: Pick<HostPolicy, 'acl'>;
  scheduler: Scheduler;
  /** Wall-clock ms (the will's Message Expiry becomes a deadline when it is published). */
  nowMs(): number;
  /** Store (retained) and route the will, as a PUBLISH from the client would be. */
  publish(msg: Message): void;
  aclDenied(): void;
}

export class LocalWillScheduler implements WillScheduler {
  /** Delayed wills (v5 Will Delay Interval) by client id. */
  private readonly delayed = new Map<string, TimerHandle>();

  constructor(private readonly deps: WillDeps) {}

  get pending(): number {
    return this.delayed.size;
  }

  opened(client: WillOwner): void {
    const t = this.delayed.get(client.clientId);
    if (t === undefined) return;
    t.cancel();
    this.delayed.delete(client.clientId);
  }

  closed(client: WillOwner, reason: DisconnectReason, due: boolean): void {
    const w = client.will;
    if (!due || !w) return;
    const delayS = Math.min(w.delayS, client.sessionExpiryS);
    if (delayS > 0 && reason === 'taken_over') return;
    const { deps } = this;
    const fire = () => {
      this.delayed.delete(client.clientId);
      if (!deps.policy.acl.allows('publish', w.topic, { username: client.username, clientId: client.clientId })) return deps.aclDenied();
      deps.publish({
        topic: w.topic,
        payload: w.payload,
        qos: w.qos,
        retain: w.retain,
        properties: w.properties,
        expiresAt: w.expiryS === null ? null : deps.nowMs() + w.expiryS * 1000,
        senderId: client.clientId,
      });
    };
    if (delayS === 0) return fire();
    this.delayed.get(client.clientId)?.cancel();
    this.delayed.set(client.clientId, deps.scheduler.setTimer(delayS * 1000, fire));
  }

  shutdown(): void {
    for (const t of this.delayed.values()) t.cancel();
    this.delayed.clear();
  }
}
