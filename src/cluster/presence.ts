/**
 * The presence table of cluster mode, behind the same PresenceTable interface as the single-node
 * table: reads (get, list, filters, paging, counts, the change feed) come from the mirror, the
 * same on every node; writes (availability, meta) go to Redis through the writer, fenced by the
 * connection's token. Online/offline/liveness need no call: the writer listens to the liveness
 * registry itself. Figures providers are kept locally and merged into the meta written at offline.
 */
import type { Transport } from '../liveness/types.js';
import { type FiguresSource, LOCAL_SOURCE, type Meta, type PresenceTable } from '../presence/types.js';
import type { PresenceIngest } from '../presence/ingest.js';
import type { Mirror } from './mirror.js';
import type { PresenceWriter } from './writer.js';

export interface ClusterPresence extends PresenceTable, PresenceIngest {
  /** Figures of an endpoint from its transport's source (empty without one). */
  figures(transport: Transport, host: string, id: string): Meta;
}

const local = (source: string | undefined) => source === undefined || source === LOCAL_SOURCE;

export function createClusterPresence(mirror: Mirror, writer: () => PresenceWriter, onSweep: () => void, onStop: () => void): ClusterPresence {
  const sources: Record<Transport, FiguresSource | null> = { xmpp: null, mqtt: null };
  return {
    // Every cluster row is Vigil's own (source `local`): gateways are refused in cluster mode.
    get: (key) => (local(key.source) ? mirror.get(key.host, key.transport, key.id) : undefined),
    list: (host, filter, limit, cursor) => mirror.list(host, filter, limit, cursor),
    listByPrefix: (host, transport, prefix, source) => (local(source) ? mirror.listByPrefix(host, transport, prefix) : []),
    count: (host, transport, state, source) => (local(source) ? mirror.count(host, transport, state) : 0),
    setAvailability: (ref, a) => writer().setAvailability(ref, a),
    setMeta: (ref, meta, announce = false) => writer().setMeta(ref, meta, announce),
    // Live figures are read per node; in cluster mode they reach Redis with the offline write.
    setFigures: () => undefined,
    setFiguresSource(transport, source) {
      sources[transport] = source;
    },
    figures(transport, host, id) {
      const s = sources[transport];
      return s ? s(host, id) : {};
    },
    // Gateway rows: refused together with `cluster` at config load (src/config/load.ts), so no
    // gateway runs here; a call would be a wiring bug, and says so.
    ingestOnline() {
      throw new Error('gateway rows are not supported in cluster mode');
    },
    ingestOffline() {
      throw new Error('gateway rows are not supported in cluster mode');
    },
    onlineKeys: () => [],
    readFeed: (after, limit) => mirror.readFeed(after, limit),
    lastSeq: () => mirror.lastSeq(),
    onChange: (l) => mirror.onChange(l),
    sweep: onSweep,
    stop: onStop,
  };
}
