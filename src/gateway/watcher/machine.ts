/**
 * The MQTT watcher's connection machine: Vigil as an MQTT 3.1.1 client of the gateway, pure
 * `(state, input, nowMs) -> {state, effects}`; watcher.ts carries the effects out on a socket.
 *
 * Liveness of the gateway is Netty's scheme (IdleStateHandler writer-idle + MqttPingHandler, see
 * ../shared/seeds/netty-idle-state-and-mqtt-ping-handler.txt): after `ping_interval` of the
 * watcher's OWN silence (nothing written) it sends PINGREQ and arms an ack timer; a PINGRESP
 * cancels it; no PINGRESP within `ping_ack_timeout` means the gateway is unreachable: close and
 * reconnect. Keep Alive in CONNECT is ping_interval, so the PINGREQs keep the session inside it
 * [MQTT-3.1.2-23]. CONNACK and SUBACK get the same ack timeout. Reconnects back off exponentially
 * from reconnect_min_ms to reconnect_max_ms with jitter (half to full delay), reset once up.
 *
 * States (one field): idle -> connecting -> handshake(connack) -> handshake(suback) -> up;
 * any failure -> backoff -> connecting; anything -> stopped (final).
 */
import type { Packet } from 'mqtt-packet';

export type TimerName = 'ack' | 'idle' | 'retry';

export interface WatcherSettings {
  clientId: string;
  username: string | null;
  password: string | null;
  /** Topic filters subscribed at QoS 0 (the kind's client events and heartbeat). */
  filters: readonly string[];
  pingIntervalMs: number;
  ackTimeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Jitter source in [0, 1). */
  rand: () => number;
}

export type WatcherState =
  | { readonly s: 'idle' }
  | { readonly s: 'connecting'; readonly attempt: number }
  | { readonly s: 'handshake'; readonly attempt: number; readonly step: 'connack' | 'suback'; readonly lastWriteAt: number }
  | { readonly s: 'up'; readonly lastWriteAt: number; readonly pingSentAt: number | null }
  | { readonly s: 'backoff'; readonly attempt: number }
  | { readonly s: 'stopped' };

/** Why the watcher lost (or could not reach) the gateway. */
export type LostWhy = 'closed' | 'connect_timeout' | 'connack_timeout' | 'suback_timeout' | 'ping_timeout' | `connack_refused_${number}`;

export type WatcherInput =
  | { type: 'start' }
  | { type: 'opened' }
  | { type: 'connack'; returnCode: number }
  | { type: 'suback'; granted: readonly number[] }
  | { type: 'pingresp' }
  | { type: 'closed' }
  | { type: 'timer'; name: TimerName }
  | { type: 'stop' };

export type WatcherEffect =
  | { type: 'open' }
  | { type: 'send'; packet: Packet }
  | { type: 'close' }
  | { type: 'arm'; name: TimerName; delayMs: number }
  | { type: 'cancel'; name: TimerName }
  /** Subscribed: the gateway is reachable. `refused` lists filters its SUBACK refused (0x80). */
  | { type: 'up'; refused: string[] }
  | { type: 'lost'; why: LostWhy }
  | { type: 'rtt'; ms: number };

export interface Step {
  state: WatcherState;
  effects: WatcherEffect[];
}

const ALL_TIMERS: TimerName[] = ['ack', 'idle', 'retry'];

/** Exponential backoff, capped, jittered to between half and all of the delay. */
export function backoffDelay(attempt: number, cfg: Pick<WatcherSettings, 'reconnectMinMs' | 'reconnectMaxMs' | 'rand'>): number {
  const full = Math.min(cfg.reconnectMaxMs, cfg.reconnectMinMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.round(full / 2 + (full / 2) * cfg.rand());
}

function connectPacket(cfg: WatcherSettings): Packet {
  const p: Packet = {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    clientId: cfg.clientId,
    keepalive: Math.ceil(cfg.pingIntervalMs / 1000),
  };
  if (cfg.username !== null) p.username = cfg.username;
  if (cfg.password !== null) p.password = Buffer.from(cfg.password, 'utf8');
  return p;
}

function fail(attempt: number, why: LostWhy, cfg: WatcherSettings): Step {
  const next = attempt + 1;
  return {
    state: { s: 'backoff', attempt: next },
    effects: [
      ...ALL_TIMERS.map((name): WatcherEffect => ({ type: 'cancel', name })),
      { type: 'close' },
      { type: 'lost', why },
      { type: 'arm', name: 'retry', delayMs: backoffDelay(next, cfg) },
    ],
  };
}

export function stepWatcher(s: WatcherState, input: WatcherInput, now: number, cfg: WatcherSettings): Step {
  const same: Step = { state: s, effects: [] };
  if (s.s === 'stopped') return same;
  if (input.type === 'stop') {
    const bye: WatcherEffect[] = s.s === 'up' || (s.s === 'handshake' && s.step === 'suback') ? [{ type: 'send', packet: { cmd: 'disconnect' } }] : [];
    const close: WatcherEffect[] = s.s === 'idle' || s.s === 'backoff' ? [] : [{ type: 'close' }];
    return { state: { s: 'stopped' }, effects: [...ALL_TIMERS.map((name): WatcherEffect => ({ type: 'cancel', name })), ...bye, ...close] };
  }
  switch (s.s) {
    case 'idle':
      if (input.type !== 'start') return same;
      return { state: { s: 'connecting', attempt: 0 }, effects: [{ type: 'open' }, { type: 'arm', name: 'ack', delayMs: cfg.ackTimeoutMs }] };

    case 'backoff':
      if (input.type !== 'timer' || input.name !== 'retry') return same;
      return { state: { s: 'connecting', attempt: s.attempt }, effects: [{ type: 'open' }, { type: 'arm', name: 'ack', delayMs: cfg.ackTimeoutMs }] };

    case 'connecting':
      if (input.type === 'opened') {
        return {
          state: { s: 'handshake', attempt: s.attempt, step: 'connack', lastWriteAt: now },
          effects: [{ type: 'send', packet: connectPacket(cfg) }, { type: 'arm', name: 'ack', delayMs: cfg.ackTimeoutMs }],
        };
      }
      if (input.type === 'closed') return fail(s.attempt, 'closed', cfg);
      if (input.type === 'timer' && input.name === 'ack') return fail(s.attempt, 'connect_timeout', cfg);
      return same;

    case 'handshake':
      if (input.type === 'closed') return fail(s.attempt, 'closed', cfg);
      if (input.type === 'timer' && input.name === 'ack') return fail(s.attempt, s.step === 'connack' ? 'connack_timeout' : 'suback_timeout', cfg);
      if (s.step === 'connack' && input.type === 'connack') {
        if (input.returnCode !== 0) return fail(s.attempt, `connack_refused_${input.returnCode}`, cfg);
        // A kind with nothing to subscribe to (VerneMQ: the watcher checks the broker alone) is up now.
        if (cfg.filters.length === 0) return upFrom(s.lastWriteAt, [], now, cfg);
        const subscribe: Packet = { cmd: 'subscribe', messageId: 1, subscriptions: cfg.filters.map((topic) => ({ topic, qos: 0 as const })) };
        return {
          state: { ...s, step: 'suback', lastWriteAt: now },
          effects: [{ type: 'send', packet: subscribe }, { type: 'arm', name: 'ack', delayMs: cfg.ackTimeoutMs }],
        };
      }
      if (s.step === 'suback' && input.type === 'suback') {
        return upFrom(s.lastWriteAt, cfg.filters.filter((_, i) => (input.granted[i] ?? 0x80) >= 0x80), now, cfg);
      }
      return same;

    case 'up':
      switch (input.type) {
        case 'closed':
          return fail(0, 'closed', cfg);
        case 'pingresp':
          if (s.pingSentAt === null) return same;
          return { state: { ...s, pingSentAt: null }, effects: [{ type: 'cancel', name: 'ack' }, { type: 'rtt', ms: now - s.pingSentAt }] };
        case 'timer':
          if (input.name === 'ack') return s.pingSentAt === null ? same : fail(0, 'ping_timeout', cfg);
          if (input.name !== 'idle') return same;
          return writerIdle(s, now, cfg);
        default:
          return same;
      }
  }
}

function upFrom(lastWriteAt: number, refused: string[], now: number, cfg: WatcherSettings): Step {
  return {
    state: { s: 'up', lastWriteAt, pingSentAt: null },
    effects: [
      { type: 'cancel', name: 'ack' },
      { type: 'arm', name: 'idle', delayMs: Math.max(0, lastWriteAt + cfg.pingIntervalMs - now) },
      { type: 'up', refused },
    ],
  };
}

/** Netty's WriterIdleTimeoutTask + MqttPingHandler.sendPingReq: ping only after a full interval of silence. */
function writerIdle(s: Extract<WatcherState, { s: 'up' }>, now: number, cfg: WatcherSettings): Step {
  const left = s.lastWriteAt + cfg.pingIntervalMs - now;
  if (left > 0) return { state: s, effects: [{ type: 'arm', name: 'idle', delayMs: left }] };
  const effects: WatcherEffect[] = [{ type: 'send', packet: { cmd: 'pingreq' } }, { type: 'arm', name: 'idle', delayMs: cfg.pingIntervalMs }];
  // One ack timer per outstanding PINGREQ, as MqttPingHandler keeps one pingRespTimeout.
  if (s.pingSentAt === null) effects.push({ type: 'arm', name: 'ack', delayMs: cfg.ackTimeoutMs });
  return { state: { s: 'up', lastWriteAt: now, pingSentAt: s.pingSentAt ?? now }, effects };
}
