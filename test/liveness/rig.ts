/**
 * Test rig for the liveness core: a registry on a ManualScheduler, a recording adapter and the
 * list of emitted events. No sleeps: time moves with `await advance(ms)`.
 *
 * Suites run once per way touch() reads the time (`eachActivityTime`): 'exact' (every touch reads
 * the clock) and 'turn', production's (src/app.ts; once per event-loop turn, time-source.ts). In
 * production time passes between turns only, so `advance` first ends the turn (the microtask that
 * invalidates the turn's time runs), as a timer or a socket read would.
 */
import { describe } from 'vitest';
import { createLivenessRegistry } from '../../src/liveness/registry.js';
import type { ActivityTime } from '../../src/liveness/time-source.js';
import type {
  DisconnectReason,
  EndpointKey,
  EndpointRef,
  LivenessAdapter,
  LivenessEvent,
  LivenessHostConfig,
  LivenessRegistry,
  TrackOptions,
} from '../../src/liveness/types.js';
import { ManualScheduler } from '../../src/time/manual.js';

export const HOST = 'example.org';

export function hostConfig(patch: Partial<LivenessHostConfig> = {}): LivenessHostConfig {
  return {
    send_pings: true,
    ping_interval: 60,
    ping_ack_timeout: 32,
    timeout_action: 'kill',
    mqtt_probe: 'keepalive',
    xmpp_probe: 'iq',
    ...patch,
  };
}

/** Records probes and kills; on kill it untracks like a real adapter closing the socket. */
export class RecordingAdapter implements LivenessAdapter {
  probes: EndpointRef[] = [];
  kills: { ref: EndpointRef; reason: DisconnectReason }[] = [];
  untrackOnKill = true;
  unprobeable: string | null = null;
  registry: LivenessRegistry | null = null;

  probe(ep: EndpointRef): void {
    this.probes.push(ep);
  }

  kill(ep: EndpointRef, reason: DisconnectReason): void {
    this.kills.push({ ref: ep, reason });
    if (!this.untrackOnKill || !this.registry) return;
    const h = this.registry.get(ep);
    if (h && h.ref.generation === ep.generation) h.untrack(reason);
  }

  canProbe(): true | string {
    return this.unprobeable ?? true;
  }
}

export function rig(patch: Partial<LivenessHostConfig> = {}, activityTime: ActivityTime = 'exact') {
  const scheduler = new ManualScheduler();
  const clock = scheduler.clock;
  const registry = createLivenessRegistry({ clock, scheduler, hosts: { [HOST]: hostConfig(patch) }, activityTime });
  const events: LivenessEvent[] = [];
  registry.subscribe((e) => events.push(e));
  const adapter = new RecordingAdapter();
  adapter.registry = registry;
  const key = (id = 'juliet@example.org/balcony', transport: EndpointKey['transport'] = 'xmpp'): EndpointKey => ({
    host: HOST,
    transport,
    id,
  });
  const track = (id?: string, opts: TrackOptions = { onIdle: 'probe' }) =>
    registry.track(key(id), adapter, opts);
  const trackMqtt = (id: string, opts: TrackOptions) => registry.track(key(id, 'mqtt'), adapter, opts);
  const types = () => events.map((e) => e.type);
  const clear = () => events.splice(0);
  const advance = async (ms: number): Promise<void> => {
    await Promise.resolve(); // the end of this turn
    scheduler.advance(ms);
  };
  return { scheduler, clock, registry, events, adapter, key, track, trackMqtt, types, clear, advance };
}

export type Rig = ReturnType<typeof rig>;

/** Define `suite` once per activity time; its `rig` makes rigs in that mode. */
export function eachActivityTime(suite: (rig: (patch?: Partial<LivenessHostConfig>) => Rig) => void): void {
  describe.each(['exact', 'turn'] as const)('activityTime %s', (activityTime) => suite((patch = {}) => rig(patch, activityTime)));
}
