/**
 * A listener's connection rate (`max_conn_rate`, connections per second, EMQX's name and default
 * 1,000): one token bucket for the whole listener, holding one second's worth, refilled
 * continuously on injected time. Not per address: a fleet behind one carrier-grade NAT that
 * reconnects after a network blip is limited by this, not refused for minutes (issue 12 item 7).
 */
import type { Clock } from '../time/clock.js';

export class ListenerRate {
  private tokens: number;
  private at: number;

  constructor(
    /** The listener's config key (listeners.<name>), for logs. */
    readonly listener: string,
    /** Connections per second; 0 = no limit. */
    readonly perSecond: number,
    private readonly clock: Pick<Clock, 'monotonic'>,
  ) {
    this.tokens = perSecond;
    this.at = clock.monotonic();
  }

  /** Take one connection's token; false: over the rate. */
  take(): boolean {
    const rate = this.perSecond;
    if (rate <= 0) return true;
    const now = this.clock.monotonic();
    this.tokens = Math.min(rate, this.tokens + ((now - this.at) * rate) / 1000);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
