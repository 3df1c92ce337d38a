/**
 * Values keyed by (host, client id) without a joined key string: one inner map per host, so a
 * session costs one map entry whose key is the client id string the connection already holds
 * (a `${host}\0${clientId}` key was a second copy of it per session, and a fresh string to hash
 * on every lookup).
 */
export class HostMap<V> {
  private readonly hosts = new Map<string, Map<string, V>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(host: string, clientId: string): V | undefined {
    return this.hosts.get(host)?.get(clientId);
  }

  has(host: string, clientId: string): boolean {
    return this.hosts.get(host)?.has(clientId) ?? false;
  }

  set(host: string, clientId: string, value: V): void {
    let inner = this.hosts.get(host);
    if (!inner) this.hosts.set(host, (inner = new Map()));
    const before = inner.size;
    inner.set(clientId, value);
    this.count += inner.size - before;
  }

  delete(host: string, clientId: string): boolean {
    const inner = this.hosts.get(host);
    if (!inner?.delete(clientId)) return false;
    this.count--; // an emptied host keeps its inner map: hosts are few, clients come back
    return true;
  }

  /** Every value, host by host, each host in insertion order. */
  *values(): IterableIterator<V> {
    for (const inner of this.hosts.values()) yield* inner.values();
  }
}
