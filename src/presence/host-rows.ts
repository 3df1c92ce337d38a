/**
 * The rows of the presence table, per host, transport and source (table.ts composes them): the
 * id and bare-JID indexes and the online / offline counts a listing and `count()` read.
 */
import type { Transport } from '../liveness/types.js';
import { HostIndex } from './host-index.js';
import { type Row, type RowHome, VIAS } from './row.js';
import { LOCAL_SOURCE } from './types.js';

/** The bare part of an id: before its first '/' (an XMPP full JID's bare JID). */
export const bareOf = (id: string) => {
  const slash = id.indexOf('/');
  return slash < 0 ? id : id.slice(0, slash);
};

/**
 * The rows of one host and transport. Keyed by the id string the liveness handle already holds
 * (no joined key per row). Ids with a '/' (XMPP full JIDs, some MQTT client ids) are also indexed
 * by their bare part, a single row or a set of them; an id without '/' is its own bare part and
 * is found in `byId`, so most MQTT rows cost one map entry.
 */
export class Rows {
  readonly byId = new Map<string, Row>();
  private readonly byBare = new Map<string, Row | Set<Row>>();
  online = 0;
  offline = 0;

  constructor(
    /** The rows' shared home (row.ts). */
    readonly home: RowHome,
  ) {}

  add(r: Row): void {
    this.byId.set(r.id, r);
    const b = bareOf(r.id);
    if (b === r.id) return;
    const had = this.byBare.get(b);
    if (had === undefined) this.byBare.set(b, r);
    else if (had instanceof Set) had.add(r);
    else this.byBare.set(b, new Set([had, r]));
  }

  delete(r: Row): void {
    this.byId.delete(r.id);
    const b = bareOf(r.id);
    if (b === r.id) return;
    const had = this.byBare.get(b);
    if (had === r) this.byBare.delete(b);
    else if (had instanceof Set) {
      had.delete(r);
      if (had.size === 1) this.byBare.set(b, had.values().next().value as Row);
    }
  }

  /** Rows whose bare part is `bare`: the row `bare` itself and its resources. */
  ofBare(bare: string): Row[] {
    const out: Row[] = [];
    const self = this.byId.get(bare);
    if (self) out.push(self);
    const had = this.byBare.get(bare);
    if (had instanceof Set) out.push(...had);
    else if (had) out.push(had);
    return out;
  }

  /** Online rows by via code (row.ts VIAS). */
  readonly onlineVia = [0, 0, 0, 0, 0];

  count(r: Row, delta: number): void {
    if (r.online) {
      this.online += delta;
      this.onlineVia[Math.max(0, VIAS.indexOf(r.via))]! += delta;
    } else this.offline += delta;
  }
}

/** One host's rows: the local ones per transport, and each gateway source's own. */
export class HostRows {
  readonly index = new HostIndex();
  readonly xmpp: Rows;
  readonly mqtt: Rows;
  /** Rows ingested from gateways (ingest-rows.ts): their own id namespace per source. */
  readonly gateways = new Map<string, Record<Transport, Rows>>();
  constructor(
    readonly host: string,
    readonly epoch: number,
  ) {
    this.xmpp = new Rows({ host, transport: 'xmpp', source: LOCAL_SOURCE, epoch });
    this.mqtt = new Rows({ host, transport: 'mqtt', source: LOCAL_SOURCE, epoch });
  }

  /** The rows of a transport and source, made on first use when `make`. */
  rows(transport: Transport, source: string, make = false): Rows | undefined {
    if (source === LOCAL_SOURCE) return this[transport];
    let g = this.gateways.get(source);
    if (!g && make) {
      const home = (t: Transport) => new Rows({ host: this.host, transport: t, source, epoch: this.epoch });
      this.gateways.set(source, (g = { xmpp: home('xmpp'), mqtt: home('mqtt') }));
    }
    return g?.[transport];
  }
}
