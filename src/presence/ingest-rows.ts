/**
 * PresenceIngest (ingest.ts) for the in-memory table: gateway rows written through a small core
 * the table hands over (find, add, announce, retire), so the table keeps one place that counts,
 * indexes and feeds rows. Generations of ingested rows come from their own counter (local rows
 * take theirs from the liveness registry); each source has its own id namespace in the table.
 */
import type { DisconnectReason, LivenessState } from '../liveness/types.js';
import type { IngestOnline, PresenceIngest, SourcedKey } from './ingest.js';
import { type LiveView, type Row, sameMeta } from './row.js';
import type { Availability, ChangeKind, Meta } from './types.js';

export type { PresenceIngest } from './ingest.js';

/** What the table lends the ingestion: its own row operations, keyed with a source. */
export interface IngestCore {
  row(key: SourcedKey): Row | undefined;
  /** A new online row (replacing an offline one of that key), counted and indexed, not announced. */
  add(key: SourcedKey, generation: number, connectedAt: number, live: LiveView): Row;
  emit(kind: ChangeKind, row: Row, takeover?: boolean): void;
  /** Offline with a reason, announced, kept as an offline row. */
  retire(row: Row, reason: DisconnectReason): void;
  online(source: string): Iterable<Row>;
}

/** The live figures of an ingested row: what the gateway told, no probing by Vigil. */
class GatewayLive implements LiveView {
  readonly state: LivenessState = 'active';
  readonly lastRttMs = null;
  constructor(public at: number) {}
  lastActivityAt(): number {
    return this.at;
  }
  nextDeadlineAt(): null {
    return null;
  }
}

function sameAvailability(r: Row, a: Availability): boolean {
  return r.available === a.available && r.show === a.show && r.status === a.status && r.priority === a.priority;
}

function setAvailability(r: Row, a: Availability): void {
  r.available = a.available;
  r.detail = a.show === null && a.status === null && a.priority === null ? null : { show: a.show, status: a.status, priority: a.priority };
}

export function ingestRows(core: IngestCore): PresenceIngest {
  let generation = 0;

  return {
    ingestOnline(o: IngestOnline): void {
      const r = core.row(o.key);
      if (r?.online && r.handle instanceof GatewayLive) {
        if (o.renew) {
          r.generation = ++generation;
          r.handle = new GatewayLive(o.at);
          r.meta = { ...o.meta };
          if (o.availability) setAvailability(r, o.availability);
          core.emit('online', r, true);
          return;
        }
        r.handle.at = Math.max(r.handle.at, o.at);
        if (!sameMeta(r.meta, o.meta)) {
          r.meta = { ...o.meta };
          core.emit('meta', r);
        }
        if (o.availability && !sameAvailability(r, o.availability)) {
          setAvailability(r, o.availability);
          core.emit('availability', r);
        }
        return;
      }
      const row = core.add(o.key, ++generation, o.connectedAt, new GatewayLive(o.at));
      row.meta = { ...o.meta };
      if (o.availability) setAvailability(row, o.availability);
      core.emit('online', row, false);
    },

    ingestOffline(key: SourcedKey, reason: DisconnectReason, meta?: Meta): void {
      const r = core.row(key);
      if (!r?.online || !(r.handle instanceof GatewayLive)) return;
      if (meta) r.meta = { ...r.meta, ...meta };
      core.retire(r, reason);
    },

    onlineKeys(source: string): SourcedKey[] {
      const out: SourcedKey[] = [];
      for (const r of core.online(source)) out.push({ host: r.host, transport: r.transport, source, id: r.id });
      return out;
    },
  };
}
