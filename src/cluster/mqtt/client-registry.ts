/**
 * The client registry of one host in cluster mode: this node's connections and limits (the local
 * registry: the limits are per node), and at every CONNECT the claim of the client's session in
 * Redis (sessions.ts): the answer comes by promise, the connection holds its input meanwhile.
 *
 * Who holds the client id across nodes is presence's fenced generation (issue 15): a connection
 * of the same id on another node is closed by its node when that node reads the new `online`
 * from the feed, and the session's own generation refuses its late writes (the claim bumped it).
 */
import { LocalClientRegistry, type Claim, type ClientLimits, type ClientRegistry, type ConnectionRate } from '../../mqtt/client-registry.js';
import type { BrokerClient } from '../../mqtt/connection-deps.js';
import type { ClusterSessions } from './sessions.js';

export class ClusterClientRegistry implements ClientRegistry<BrokerClient> {
  private readonly inner: LocalClientRegistry<BrokerClient>;

  constructor(
    private readonly host: string,
    rate: ConnectionRate,
    private readonly sessions: ClusterSessions,
  ) {
    this.inner = new LocalClientRegistry(host, rate);
  }

  get local(): ReadonlyMap<string, BrokerClient> {
    return this.inner.local;
  }

  claim(clientId: string, holder: BrokerClient, limits: ClientLimits): Claim<BrokerClient> | Promise<Claim<BrokerClient>> {
    const c = this.inner.claim(clientId, holder, limits);
    const st = holder.negotiated;
    if (!c.granted || !st) return c;
    const expiry = this.sessions.manager.expiryOf({ host: this.host, version: st.version, cleanStart: st.cleanStart, ...(st.version === 5 ? { sessionExpiryS: st.sessionExpiryS } : {}) });
    return this.sessions.claim(this.host, clientId, st.cleanStart, expiry !== 0).then(
      () => c,
      (err: unknown) => {
        this.inner.release(clientId, holder);
        throw err;
      },
    );
  }

  release(clientId: string, holder: BrokerClient): void {
    this.inner.release(clientId, holder);
    if (!this.inner.local.has(clientId)) this.sessions.released(this.host, clientId);
  }
}
