/**
 * What the mirror (mirror.ts) reads from Redis: the fields of an endpoint hash or feed entry in one
 * shape, the row it keeps per endpoint, and the PresenceView and ChangeEntry built from fields.
 * Field names: scripts.ts.
 */
import type { DisconnectReason, LivenessState, Transport, Via } from '../liveness/types.js';
import { type ChangeEntry, type ChangeKind, LOCAL_SOURCE, type Meta, type PresenceView, type Show } from '../presence/types.js';
import { parseEpName } from './keys.js';

/**
 * The fields of an endpoint hash or a feed entry, read once from the reply's flat list into one
 * shape (no Map per entry: this runs for every change on every node). Names: scripts.ts.
 */
export class Fields {
  k = '';
  t = '';
  r = '';
  x = '';
  at = '';
  g = '';
  n = '';
  c = '';
  st = '';
  av = '';
  sh = '';
  su = '';
  pr = '';
  lv = '';
  ca = '';
  da = '';
  la = '';
  rt = '';
  lr = '';
  v = '';
  m = '';
  o = '';
  s = '';

  constructor(flat: readonly string[]) {
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const v = flat[i + 1]!;
      switch (flat[i]) {
        case 'k': this.k = v; break;
        case 't': this.t = v; break;
        case 'r': this.r = v; break;
        case 'x': this.x = v; break;
        case 'at': this.at = v; break;
        case 'g': this.g = v; break;
        case 'n': this.n = v; break;
        case 'c': this.c = v; break;
        case 'st': this.st = v; break;
        case 'av': this.av = v; break;
        case 'sh': this.sh = v; break;
        case 'su': this.su = v; break;
        case 'pr': this.pr = v; break;
        case 'lv': this.lv = v; break;
        case 'ca': this.ca = v; break;
        case 'da': this.da = v; break;
        case 'la': this.la = v; break;
        case 'rt': this.rt = v; break;
        case 'lr': this.lr = v; break;
        case 'v': this.v = v; break;
        case 'm': this.m = v; break;
        case 'o': this.o = v; break;
        case 's': this.s = v; break;
        default: break;
      }
    }
  }
}

export interface MirrorRow {
  readonly name: string;
  readonly host: string;
  readonly transport: Transport;
  readonly id: string;
  /** The row's fields after its last change; its view is built when read. */
  f: Fields;
  view: PresenceView | null;
  online: boolean;
  node: string;
  conn: string;
  /** Seq of the last change applied. */
  seq: number;
  /** Seq that created the row: paging order. */
  order: number;
  removed: boolean;
}

/** One feed entry as read from the stream: seq and the flat field list. */
export interface RawEntry {
  seq: number;
  fields: readonly string[];
}

const num = (s: string): number | null => (s === '' ? null : Number(s));
/** Feed entry kinds the mirror applies (others are control entries). */
export const KINDS = new Set<string>(['online', 'offline', 'availability', 'liveness', 'meta']);

/** A PresenceView from endpoint fields. */
export function viewFromFields(host: string, transport: Transport, id: string, f: Fields): PresenceView {
  let meta: Meta = {};
  if (f.m) {
    try {
      meta = JSON.parse(f.m) as Meta;
      if (Array.isArray(meta)) meta = {}; // cjson encodes an empty table as []
    } catch {
      meta = {};
    }
  }
  const online = f.st === 'online';
  return {
    host,
    transport,
    source: LOCAL_SOURCE,
    via: (f.v || null) as Via | null,
    id,
    generation: Number(f.g || 0),
    state: online ? 'online' : 'offline',
    available: f.av === '1',
    show: (f.sh || null) as Show | null,
    status: f.su || null,
    priority: num(f.pr),
    liveness: (f.lv || null) as LivenessState | null,
    connected_at: Number(f.ca || 0),
    disconnected_at: online ? null : num(f.da),
    last_activity_at: Number(f.la || 0),
    next_deadline_at: null,
    // Deadlines stay on the node that holds the endpoint (next_deadline_at is null here too).
    resumable_until: null,
    last_rtt_ms: num(f.rt),
    last_disconnect_reason: (f.lr || null) as DisconnectReason | null,
    meta,
    node: f.n,
  };
}

/** The ChangeEntry of a feed entry; null for a quiet one (an unannounced meta change). */
export function entryOf(seq: number, f: Fields): ChangeEntry | null {
  if (f.x === 'q' || !KINDS.has(f.t)) return null;
  const ep = parseEpName(f.k);
  if (!ep) return null;
  const view = viewFromFields(ep.host, ep.transport, ep.id, f);
  const kind = f.t as ChangeKind;
  const entry: ChangeEntry = { seq, at: Number(f.at || 0), kind, host: ep.host, transport: ep.transport, source: LOCAL_SOURCE, id: ep.id, generation: view.generation, row: view };
  if (kind === 'offline' && f.r) entry.reason = f.r as DisconnectReason;
  if (kind === 'online') entry.takeover = f.x === '1';
  return entry;
}
