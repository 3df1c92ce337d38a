/**
 * This node's membership: a new epoch and a lease at join, the lease renewed every lease/3, dead
 * nodes swept, self-fencing when the lease cannot be renewed.
 *
 * States (one field):
 *   joining --REGISTER ok--> member --RENEW answers FENCED, or no renewal for lease_ms--> fenced
 *   fenced  --onFenced() closed the local clients; REGISTER ok (new epoch)--> member
 *   member | fenced --leave()--> left
 *
 * Why the node's own clock can fence it before anyone sweeps it: the lease deadline Redis keeps is
 * Redis's time at the renewal + lease_ms, which is later than the moment the node SENT that
 * renewal + lease_ms. So a node that counts lease_ms from its last successful renewal's send time
 * stops serving before any survivor may sweep it (Kleppmann's fencing: the store rejects its late
 * writes as well, APPLY answers FENCED).
 *
 * Sweeping: every RENEW answers the nodes whose lease ran out; this node runs SWEEP for each until
 * their sets are empty (claims make one survivor do it; idempotent if it dies midway). A node that
 * re-registers under the same node_id sweeps its own previous epoch at once (a restart after kill -9).
 */
import type { Logger } from 'pino';
import type { Clock } from '../time/clock.js';
import type { Scheduler, TimerHandle } from '../time/scheduler.js';
import { K } from './keys.js';
import type { RedisLink } from './redis.js';
import { LEAVE, REGISTER, RENEW, SWEEP } from './scripts.js';

export type MembershipState = 'joining' | 'member' | 'fenced' | 'left';

export interface MembershipDeps {
  link: RedisLink;
  nodeId: string;
  leaseMs: number;
  version: string;
  /** REST address for GET /v1/cluster ("host:port", or '' before listening). */
  http(): string;
  clock: Clock;
  scheduler: Scheduler;
  logger: Logger;
  feedSize: number;
  /** Lost the lease: close every local client now (their records are the sweeper's). */
  onFenced(): void;
  /** Joined with a new epoch (after start or after a fence). */
  onEpoch(epoch: number): void;
  /**
   * Redis lost this node's record while the node's own lease was good (a Redis restart that lost
   * data): rejoined with a new epoch without closing clients; re-assert what they hold.
   */
  onRecovered(): void;
  /** Count an event in /metrics. */
  count(event: 'swept' | 'fenced' | 'recovered', n?: number): void;
}

const SWEEP_BATCH = 500;

export class Membership {
  state: MembershipState = 'joining';
  epoch = 0;
  /** Monotonic ms at which the last successful renewal was sent. */
  private renewedAt = 0;
  private timer: TimerHandle | null = null;
  private watch: TimerHandle | null = null;
  private renewing = false;
  private verifying = false;
  private readonly sweeping = new Set<string>();
  /** Endpoints set offline by this node's sweeps (tests, metrics). */
  swept = 0;
  fences = 0;
  recoveries = 0;

  constructor(private readonly d: MembershipDeps) {}

  get renewEveryMs(): number {
    return Math.max(50, Math.floor(this.d.leaseMs / 3));
  }

  async join(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
    const sentAt = this.d.clock.monotonic();
    const r = (await this.d.link.script(REGISTER, [K.nodes], [this.d.nodeId, String(this.d.leaseMs), this.d.version, this.d.http(), String(this.d.clock.now()), String(this.epoch)])) as [number, string, number];
    const [epoch, old] = r;
    this.epoch = Number(epoch);
    this.renewedAt = sentAt;
    this.state = 'member';
    this.d.logger.info({ event: 'cluster_joined', node: this.d.nodeId, epoch: this.epoch, previous_epoch: old || null }, 'joined the cluster');
    if (old) {
      this.d.logger.warn({ event: 'cluster_node_id_reused', node: this.d.nodeId, previous_epoch: Number(old) }, 'node_id was registered: its previous epoch is fenced and swept');
      void this.sweep(this.d.nodeId, old);
    }
    this.d.onEpoch(this.epoch);
    this.arm();
  }

  /** The node's own clock says the lease may have run out. */
  leaseLost(nowMono = this.d.clock.monotonic()): boolean {
    return this.state === 'member' && nowMono - this.renewedAt >= this.d.leaseMs;
  }

  private arm(): void {
    this.timer?.cancel();
    this.timer = null;
    if (this.state === 'left') return;
    this.timer = this.d.scheduler.setTimer(this.renewEveryMs, () => {
      this.timer = null;
      void this.tick().finally(() => this.arm());
    });
  }

  private async tick(): Promise<void> {
    if (this.state === 'fenced') return this.rejoin();
    if (this.state !== 'member' || this.renewing) return;
    if (this.leaseLost()) return this.fence('lease_expired');
    this.renewing = true;
    const sentAt = this.d.clock.monotonic();
    try {
      const r = (await this.d.link.script(RENEW, [K.nodes], [this.d.nodeId, String(this.epoch), String(this.d.leaseMs)])) as string[];
      if (this.state !== 'member') return;
      if (r[0] === 'FENCED') return await this.fencedBy(r[1] ?? '');
      this.renewedAt = sentAt;
      if (this.verifying) {
        this.verifying = false;
        this.d.onEpoch(this.epoch); // a write was refused, the lease is good again: writes resume
      }
      this.watchNext(Number(r[1]), r[2] ? Number(r[2]) : null);
      for (let i = 3; i + 1 < r.length; i += 2) {
        const node = r[i]!;
        if (node !== this.d.nodeId) void this.sweep(node, r[i + 1]!);
      }
    } catch (err) {
      this.d.logger.warn({ event: 'cluster_renew_failed', err: String(err) }, 'lease renewal failed');
      if (this.leaseLost()) this.fence('lease_expired');
    } finally {
      this.renewing = false;
    }
  }

  /**
   * RENEW answered FENCED. `missing` while this node's own clock says the lease is good means Redis
   * lost the record (restart without the data): join again and re-assert, clients stay. Anything
   * else (another process took the node id, the lease ran out in Redis) fences.
   */
  private async fencedBy(why: string): Promise<void> {
    if (why === 'missing' && !this.leaseLost()) {
      this.d.logger.warn({ event: 'cluster_record_lost', node: this.d.nodeId, epoch: this.epoch }, 'Redis lost this node\'s record: rejoining and re-asserting local endpoints');
      this.recoveries++;
      this.d.count('recovered');
      await this.join();
      this.d.onRecovered();
      return;
    }
    this.fence(why === 'replaced' ? 'epoch_replaced' : `lease_${why}`);
  }

  /** A write answered FENCED: renew now to learn why (fence, or recover from lost data). */
  verify(): void {
    this.verifying = true;
    void this.tick();
  }

  /**
   * Look again right after the next other lease deadline (Redis time), so a dead node is swept
   * within its lease rather than up to lease/3 later. The extra look is one RENEW.
   */
  private watchNext(redisNow: number, deadline: number | null): void {
    if (deadline === null || this.state !== 'member') return;
    const wait = deadline - redisNow + 5;
    if (wait >= this.renewEveryMs) return; // the regular renewal comes first
    this.watch?.cancel();
    this.watch = this.d.scheduler.setTimer(Math.max(0, wait), () => {
      this.watch = null;
      void this.tick();
    });
  }

  /** Stop serving: close local clients; rejoin with a new epoch on the next tick. */
  fence(why: string): void {
    if (this.state !== 'member') return;
    this.state = 'fenced';
    this.fences++;
    this.d.count('fenced');
    this.d.logger.error({ event: 'cluster_fenced', node: this.d.nodeId, epoch: this.epoch, why }, 'lost the cluster lease: closing local clients');
    this.d.onFenced();
  }

  private async rejoin(): Promise<void> {
    try {
      await this.join();
    } catch (err) {
      this.d.logger.warn({ event: 'cluster_rejoin_failed', err: String(err) }, 'rejoin failed, retrying');
    }
  }

  /** Sweep one dead incarnation until its set is empty (or another survivor holds the claim). */
  async sweep(node: string, epoch: string): Promise<void> {
    const key = `${node}:${epoch}`;
    if (!epoch || this.sweeping.has(key)) return;
    this.sweeping.add(key);
    try {
      for (;;) {
        if (this.state !== 'member') return;
        const r = (await this.d.link.script(SWEEP, [K.nodes], [this.d.nodeId, String(this.epoch), node, epoch, String(SWEEP_BATCH), String(this.d.feedSize), String(this.d.leaseMs)])) as [string, number, number];
        if (r[0] !== 'OK') return;
        this.swept += Number(r[1]);
        this.d.count('swept', Number(r[1]));
        if (Number(r[1]) > 0 || Number(r[2]) === 0) {
          this.d.logger.info({ event: 'cluster_node_swept', node, epoch: Number(epoch), swept: Number(r[1]), left: Number(r[2]) }, 'swept a dead node');
        }
        if (Number(r[2]) === 0) return;
      }
    } catch (err) {
      this.d.logger.warn({ event: 'cluster_sweep_failed', node, err: String(err) }, 'sweep failed (the next renewal retries)');
    } finally {
      this.sweeping.delete(key);
    }
  }

  async leave(): Promise<void> {
    const was = this.state;
    this.state = 'left';
    this.timer?.cancel();
    this.timer = null;
    this.watch?.cancel();
    this.watch = null;
    if (was !== 'member') return;
    try {
      await this.d.link.script(LEAVE, [K.nodes], [this.d.nodeId, String(this.epoch)]);
    } catch (err) {
      this.d.logger.warn({ event: 'cluster_leave_failed', err: String(err) }, 'could not leave the cluster cleanly (the lease will run out)');
    }
  }
}
