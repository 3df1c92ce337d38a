/** Test messages and effect filters for the session core tests. */
import type { Deliverable, QoS, SessionEffect, SessionLimits } from '../../src/mqtt-session/types.js';
import { DEFAULT_LIMITS } from '../../src/mqtt-session/limits.js';

export interface TestMsg extends Deliverable {
  readonly name: string;
}

export function msg(name: string, qos: QoS = 1, topic = 't', expiresAt: number | null = null): TestMsg {
  return { name, qos, msg: { topic, expiresAt } };
}

export function limits(over: Partial<SessionLimits> = {}): SessionLimits {
  return { ...DEFAULT_LIMITS, ...over };
}

/** The packets an effect list sends, as short strings: `publish 3 a dup`, `pubrel 3`. */
export function sent(fx: SessionEffect<TestMsg>[]): string[] {
  const out: string[] = [];
  for (const e of fx) {
    if (e.type === 'publish') out.push(`publish ${e.id} ${e.msg.name}${e.dup ? ' dup' : ''}`);
    else if (e.type === 'pubrel') out.push(`pubrel ${e.id}${e.reasonCode ? ` 0x${e.reasonCode.toString(16)}` : ''}`);
  }
  return out;
}

export function writes(fx: SessionEffect<TestMsg>[]): string[] {
  const out: string[] = [];
  for (const e of fx) {
    if (e.type !== 'store') continue;
    const w = e.write;
    switch (w.kind) {
      case 'inflight_put':
        out.push(`inflight_put ${w.id} ${w.msg.name}`);
        break;
      case 'inflight_phase':
        out.push(`inflight_phase ${w.id} ${w.phase}`);
        break;
      case 'queue_put':
        out.push(`queue_put ${w.seq} ${w.msg.name}`);
        break;
      case 'rel_put':
        out.push(`rel_put ${w.id}`);
        break;
      case 'sub_put':
      case 'sub_del':
        out.push(`${w.kind} ${w.filter}`);
        break;
      default:
        out.push(`${w.kind} ${'id' in w ? w.id : w.seq}`);
    }
  }
  return out;
}

export function drops(fx: SessionEffect<TestMsg>[]): string[] {
  return fx.flatMap((e) => (e.type === 'dropped' ? [`${e.reason}${e.msg ? ` ${e.msg.name}` : ''}`] : []));
}

export function timers(fx: SessionEffect<TestMsg>[]): string[] {
  return fx.flatMap((e) => (e.type === 'arm' ? [`arm ${e.timer} ${e.delayMs}`] : e.type === 'cancel' ? [`cancel ${e.timer}`] : []));
}
