/**
 * Timed work of MQTT in cluster mode, on every node: MAINT (scripts.ts) once a second, and at the
 * due time of the next delayed will it learns of, deletes offline sessions past their deadline and
 * answers the wills whose delay is over, which this node then publishes (guarded: once in the
 * cluster, wills.ts). `sweep` finishes a dead incarnation's MQTT part (MSWEEP) for membership.
 */
import type { Logger } from 'pino';
import type { Scheduler, TimerHandle } from '../../time/scheduler.js';
import type { RedisLink } from '../redis.js';
import { MK, parseSessionKey } from './keys.js';
import { MAINT, MSWEEP } from './scripts.js';
import type { DueWill } from './wills.js';

export interface MaintenanceDeps {
  link(): RedisLink;
  scheduler: Scheduler;
  logger: Logger;
  nowMs(): number;
  /** Due wills, by host. */
  fire(host: string, wills: DueWill[]): void;
}

const EVERY_MS = 1_000;
const BATCH = '200';

export class Maintenance {
  private timer: TimerHandle | null = null;
  private at = Infinity;
  private running = false;
  private again = false;
  private stopped = true;
  /** Sessions expired and wills read by this node, sessions and wills swept (tests, logs). */
  readonly stats = { expired: 0, due: 0, sweptSessions: 0, sweptWills: 0 };

  constructor(private readonly d: MaintenanceDeps) {}

  start(): void {
    this.stopped = false;
    this.wake(EVERY_MS);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
  }

  /** Run in `inMs` (or sooner, if already due sooner). */
  wake(inMs: number): void {
    if (this.stopped) return;
    const at = this.d.nowMs() + Math.max(0, inMs);
    if (this.timer && at >= this.at) return;
    this.timer?.cancel();
    this.at = at;
    this.timer = this.d.scheduler.setTimer(Math.max(0, inMs), () => {
      this.timer = null;
      this.at = Infinity;
      void this.run();
    });
  }

  private async run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    let next = EVERY_MS;
    try {
      const [expired, due, nextDue] = (await this.d.link().scriptBuf(MAINT, [MK.mexp], [BATCH])) as [number, Buffer[], Buffer | string];
      this.stats.expired += Number(expired);
      const byHost = new Map<string, DueWill[]>();
      for (let i = 0; i + 4 < due.length; i += 5) {
        const sk = String(due[i]);
        const { host, clientId } = parseSessionKey(sk);
        const x = String(due[i + 2]);
        const u = String(due[i + 3]);
        let list = byHost.get(host);
        if (!list) byHost.set(host, (list = []));
        list.push({ sk, conn: String(due[i + 1]), expiryS: x === '' ? null : Number(x), username: u === '' ? null : u, clientId, blob: due[i + 4]! });
      }
      for (const [host, wills] of byHost) {
        this.stats.due += wills.length;
        this.d.fire(host, wills);
      }
      if (due.length / 5 >= Number(BATCH)) next = 0;
      else if (String(nextDue) !== '') next = Math.min(next, Math.max(0, Number(String(nextDue)) - this.d.nowMs()));
    } catch (err) {
      if (!this.stopped) this.d.logger.warn({ event: 'cluster_mqtt_maintenance_failed', err: String(err) }, 'MQTT maintenance failed');
    } finally {
      this.running = false;
    }
    this.wake(this.again ? 0 : next);
    this.again = false;
  }

  /** The MQTT part of sweeping a dead incarnation, until nothing of it is left. */
  async sweep(node: string, epoch: string): Promise<void> {
    for (;;) {
      const [sessions, wills, left] = (await this.d.link().script(MSWEEP, [MK.mexp], [node, epoch, BATCH])) as [number, number, number];
      this.stats.sweptSessions += Number(sessions);
      this.stats.sweptWills += Number(wills);
      if (Number(wills) > 0) this.wake(0);
      if (Number(sessions) + Number(wills) > 0) this.d.logger.info({ event: 'cluster_mqtt_swept', node, epoch: Number(epoch), sessions, wills }, 'swept the MQTT sessions and wills of a dead node');
      if (Number(left) <= 0) return;
    }
  }
}
