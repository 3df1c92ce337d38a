/**
 * The client registry of one host (EMQX's emqx_cm registry): which connection holds which client
 * id, takeover, and the host's client counts with their limits. The broker (broker.ts) claims a
 * client id once CONNECT is accepted and releases it when the connection closes.
 *
 *   claim(id, conn)   -> refused by a limit, or granted with the previous holder (or none)
 *   previous holder   -> the caller closes it: takeover [MQTT-3.1.4-2/3]; it stays counted until
 *                        its release (its close), so its address keeps its count meanwhile
 *   release(id, conn) -> the address count drops; the id is freed only if `conn` still holds it
 *                        (a taken-over connection's late release frees nothing)
 *
 * Limits, in this order (the first that refuses names the limit): max_connections_per_ip (a
 * takeover from the same address replaces a connection, it does not add one), max_connections
 * (a takeover adds no client), then the host's connection rate per address, taken last because
 * taking it uses a token.
 *
 * A claim may answer with a promise: a cluster registry (issue 15) claims the id in Redis under
 * a fenced generation (one script: new generation, owner, previous owner) and closes a holder on
 * another node itself; only a local previous holder comes back here. `local` is always this
 * node's, a plain map read on every delivery (router.ts): a lookup, no call.
 */

/** What the registry needs of a holder: its address (per-address counts). */
export interface Holder {
  readonly remoteIp: string;
}

export type ClientLimit = 'max_connections_per_ip' | 'max_connections' | 'max_connection_rate_per_ip';

/** The host's limits on clients (its `mqtt.*` options). 0 = no limit. */
export interface ClientLimits {
  readonly max_connections: number;
  readonly max_connections_per_ip: number;
}

export type Claim<C> = { readonly granted: true; readonly previous: C | null } | { readonly granted: false; readonly limit: ClientLimit };

export interface ClientRegistry<C extends Holder> {
  /** Claim `clientId` for `holder` (a plain answer on one node, maybe a promise in a cluster). */
  claim(clientId: string, holder: C, limits: ClientLimits): Claim<C> | Promise<Claim<C>>;
  /** `holder` closed: free its count, and the id if it still holds it. Once per granted claim. */
  release(clientId: string, holder: C): void;
  /** The connections of this node that hold a client id, by client id (read-only). */
  readonly local: ReadonlyMap<string, C>;
}

/** New connections per minute per address (src/transport/ip-limits.ts); taking one uses a token. */
export interface ConnectionRate {
  takeConnection(ip: string, host: string | null): boolean;
}

const REFUSED: Record<ClientLimit, Claim<never>> = {
  max_connections_per_ip: { granted: false, limit: 'max_connections_per_ip' },
  max_connections: { granted: false, limit: 'max_connections' },
  max_connection_rate_per_ip: { granted: false, limit: 'max_connection_rate_per_ip' },
};

/** The single-node registry: two maps. */
export class LocalClientRegistry<C extends Holder> implements ClientRegistry<C> {
  private readonly clients = new Map<string, C>();
  private readonly perIp = new Map<string, number>();
  readonly local: ReadonlyMap<string, C> = this.clients;

  constructor(
    private readonly host: string,
    private readonly rate: ConnectionRate,
  ) {}

  claim(clientId: string, holder: C, limits: ClientLimits): Claim<C> {
    const ip = holder.remoteIp;
    const ipCount = this.perIp.get(ip) ?? 0;
    const old = this.clients.get(clientId);
    const replacing = old !== undefined && old.remoteIp === ip ? 1 : 0;
    const perIp = limits.max_connections_per_ip;
    const total = limits.max_connections;
    if (perIp > 0 && ipCount - replacing >= perIp) return REFUSED.max_connections_per_ip;
    if (total > 0 && !old && this.clients.size >= total) return REFUSED.max_connections;
    if (!this.rate.takeConnection(ip, this.host)) return REFUSED.max_connection_rate_per_ip;
    this.perIp.set(ip, ipCount + 1);
    this.clients.set(clientId, holder);
    return { granted: true, previous: old ?? null };
  }

  release(clientId: string, holder: C): void {
    const ip = holder.remoteIp;
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
    if (this.clients.get(clientId) === holder) this.clients.delete(clientId);
  }
}
