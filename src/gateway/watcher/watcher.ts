/**
 * The MQTT watcher's thin shell: carries out machine.ts effects on a socket (net, or tls for
 * mqtts://), frames and decodes the gateway's packets with mqtt-packet (3.1.1), sets its timers on
 * the injected Scheduler and reads time from the injected Clock, so tests drive it over an
 * in-memory duplex with a ManualScheduler. Every socket gets a number; events of an old socket
 * (a late close after a reconnect) are ignored. Incoming PUBLISHes go to `onMessage` (the kind's
 * parser); nothing the gateway sends is buffered beyond MAX_BUFFERED_BYTES.
 */
import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { generate, parser as makeParser, type Packet } from 'mqtt-packet';
import type { Clock } from '../../time/clock.js';
import type { Scheduler } from '../../time/scheduler.js';
import { KeyedTimers } from '../keyed-timers.js';
import { type LostWhy, type TimerName, type WatcherEffect, type WatcherInput, type WatcherSettings, type WatcherState, stepWatcher } from './machine.js';

/** A partial packet larger than this closes the connection: gateway $SYS messages are small. */
export const MAX_BUFFERED_BYTES = 1_048_576;

export interface WatcherEndpoint {
  host: string;
  port: number;
  /** TLS options (mqtts://); null = plain TCP. */
  tls: ConnectionOptions | null;
}

export interface WatcherDeps {
  settings: WatcherSettings;
  endpoint: WatcherEndpoint;
  clock: Clock;
  scheduler: Scheduler;
  /** How to reach the gateway; default: TCP/TLS to `endpoint`. `ready` is how the stream says it is connected. */
  open?: () => { stream: Duplex; ready: 'connect' | 'secureConnect' | 'now' };
  onUp(refused: string[]): void;
  onLost(why: LostWhy): void;
  onMessage(topic: string, payload: Buffer): void;
  onRtt?(ms: number): void;
}

/** Parse `mqtt://host:port` / `mqtts://host:port` (default ports 1883 / 8883). */
export function parseMqttUrl(url: string): { host: string; port: number; tls: boolean } {
  const u = new URL(url);
  const tls = u.protocol === 'mqtts:';
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : tls ? 8883 : 1883, tls };
}

export class MqttWatcher {
  private st: WatcherState = { s: 'idle' };
  private stream: Duplex | null = null;
  private socketNo = 0;
  private readonly timers: KeyedTimers<TimerName>;
  private lastRtt: number | null = null;

  constructor(private readonly deps: WatcherDeps) {
    this.timers = new KeyedTimers(deps.scheduler);
  }

  get state(): WatcherState['s'] {
    return this.st.s;
  }

  get lastRttMs(): number | null {
    return this.lastRtt;
  }

  start(): void {
    this.input({ type: 'start' });
  }

  stop(): void {
    this.input({ type: 'stop' });
  }

  private input(i: WatcherInput): void {
    const { state, effects } = stepWatcher(this.st, i, this.deps.clock.now(), this.deps.settings);
    this.st = state;
    for (const fx of effects) this.run(fx);
  }

  private run(fx: WatcherEffect): void {
    switch (fx.type) {
      case 'open':
        return this.open();
      case 'send':
        this.stream?.write(generate(fx.packet, { protocolVersion: 4 }));
        return;
      case 'close': {
        const s = this.stream;
        this.stream = null;
        this.socketNo++;
        s?.end();
        s?.destroy();
        return;
      }
      case 'arm':
        return this.timers.arm(fx.name, fx.delayMs, () => this.input({ type: 'timer', name: fx.name }));
      case 'cancel':
        return this.timers.cancel(fx.name);
      case 'up':
        return this.deps.onUp(fx.refused);
      case 'lost':
        return this.deps.onLost(fx.why);
      case 'rtt':
        this.lastRtt = fx.ms;
        return this.deps.onRtt?.(fx.ms);
    }
  }

  private open(): void {
    const no = ++this.socketNo;
    const { stream, ready } = (this.deps.open ?? (() => this.dial()))();
    this.stream = stream;
    const mine = () => no === this.socketNo;
    const parser = makeParser({ protocolVersion: 4 });
    parser.on('packet', (p: Packet) => mine() && this.onPacket(p));
    parser.on('error', () => mine() && this.input({ type: 'closed' }));
    stream.on('data', (chunk: Buffer) => {
      if (!mine()) return;
      if (parser.parse(chunk) > MAX_BUFFERED_BYTES) this.input({ type: 'closed' });
    });
    stream.on('error', () => undefined); // 'close' follows
    stream.on('close', () => mine() && this.input({ type: 'closed' }));
    if (ready === 'now') queueMicrotask(() => mine() && this.input({ type: 'opened' }));
    else stream.once(ready, () => mine() && this.input({ type: 'opened' }));
  }

  private dial(): { stream: Duplex; ready: 'connect' | 'secureConnect' } {
    const { host, port, tls } = this.deps.endpoint;
    if (tls) return { stream: tlsConnect({ host, port, ...tls }), ready: 'secureConnect' };
    const s = netConnect({ host, port });
    s.setNoDelay(true);
    return { stream: s, ready: 'connect' };
  }

  private onPacket(p: Packet): void {
    switch (p.cmd) {
      case 'connack':
        return this.input({ type: 'connack', returnCode: p.returnCode ?? p.reasonCode ?? 0 });
      case 'suback':
        return this.input({ type: 'suback', granted: (p.granted as unknown[]).map((g) => (typeof g === 'number' ? g : 0x80)) });
      case 'pingresp':
        return this.input({ type: 'pingresp' });
      case 'publish':
        // Subscribed at QoS 0: the gateway delivers at most QoS 0 [MQTT-3.8.4-6], nothing to acknowledge.
        if (this.st.s === 'up') this.deps.onMessage(p.topic, Buffer.isBuffer(p.payload) ? p.payload : Buffer.from(p.payload));
        return;
      case 'disconnect':
        return this.input({ type: 'closed' });
      default:
        return;
    }
  }
}
