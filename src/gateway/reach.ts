/**
 * Reachability of one gateway, a pure machine `(state, input, nowMs) -> {state, effects}` over the
 * channels that can prove it alive: the MQTT watcher (CONNACK + SUBACK, PINGRESP in time) and the
 * REST poll (a snapshot read every poll_interval). Webhooks prove nothing (silence is normal), so a
 * gateway with neither is `unmonitored` and never declared down.
 *
 *   starting --a channel up--> up --every channel lost--> unreachable --gateway_timeout--> down
 *   starting --gateway_timeout--> down          unreachable | down --a channel up--> up
 *
 * Going `down` takes every row of the gateway offline with reason gateway_down (no gateway reports
 * its own death); coming back `up` asks for a fresh snapshot, so rows return from what the gateway
 * holds now, not from what it held when it was lost.
 */
import type { GatewayState } from './types.js';

export type Channel = 'watcher' | 'api';
export type ChannelState = 'up' | 'lost' | 'off';

export interface ReachState {
  readonly state: GatewayState;
  /** Wall ms of the last change of `state`. */
  readonly since: number;
  readonly channels: Readonly<Record<Channel, ChannelState>>;
}

export type ReachInput = { type: 'up'; channel: Channel } | { type: 'lost'; channel: Channel } | { type: 'timeout' };

export type ReachEffect =
  | { type: 'arm'; delayMs: number }
  | { type: 'disarm' }
  /** Every row of the gateway goes offline with gateway_down. */
  | { type: 'down' }
  /** The gateway is (back) up through `channel`: take a fresh snapshot where the kind has one. */
  | { type: 'snapshot'; channel: Channel };

export function initialReach(channels: Record<Channel, boolean>, timeoutMs: number, now: number): { state: ReachState; effects: ReachEffect[] } {
  const ch = { watcher: channels.watcher ? 'lost' : 'off', api: channels.api ? 'lost' : 'off' } as const;
  if (ch.watcher === 'off' && ch.api === 'off') return { state: { state: 'unmonitored', since: now, channels: ch }, effects: [] };
  return { state: { state: 'starting', since: now, channels: ch }, effects: [{ type: 'arm', delayMs: timeoutMs }] };
}

export function stepReach(s: ReachState, input: ReachInput, now: number, timeoutMs: number): { state: ReachState; effects: ReachEffect[] } {
  switch (input.type) {
    case 'up': {
      if (s.channels[input.channel] === 'off') return { state: s, effects: [] };
      const channels = { ...s.channels, [input.channel]: 'up' as const };
      if (s.state === 'up') return { state: { ...s, channels }, effects: [] };
      return { state: { state: 'up', since: now, channels }, effects: [{ type: 'disarm' }, { type: 'snapshot', channel: input.channel }] };
    }
    case 'lost': {
      if (s.channels[input.channel] === 'off') return { state: s, effects: [] };
      const channels = { ...s.channels, [input.channel]: 'lost' as const };
      const anyUp = channels.watcher === 'up' || channels.api === 'up';
      if (s.state !== 'up' || anyUp) return { state: { ...s, channels }, effects: [] };
      return { state: { state: 'unreachable', since: now, channels }, effects: [{ type: 'arm', delayMs: timeoutMs }] };
    }
    case 'timeout':
      if (s.state !== 'unreachable' && s.state !== 'starting') return { state: s, effects: [] };
      return { state: { ...s, state: 'down', since: now }, effects: [{ type: 'down' }] };
  }
}
