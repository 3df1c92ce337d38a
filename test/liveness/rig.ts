/**
 * Test rig for the liveness core: a registry on a ManualScheduler, a recording adapter and the
 * list of emitted events. No sleeps: time moves with `advance(ms)`.
 */
import { createLivenessRegistry } from '../../src/liveness/registry.js';
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

export function rig(patch: Partial<LivenessHostConfig> = {}) {
  const scheduler = new ManualScheduler();
  const clock = scheduler.clock;
  const registry = createLivenessRegistry({ clock, scheduler, hosts: { [HOST]: hostConfig(patch) } });
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
  const advance = (ms: number) => scheduler.advance(ms);
  return { scheduler, clock, registry, events, adapter, key, track, trackMqtt, types, clear, advance };
}
