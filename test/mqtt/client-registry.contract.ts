/**
 * One contract for every ClientRegistry (src/mqtt/client-registry.ts): the single-node one, test
 * doubles answering by promise, and the cluster's. A claim is awaited, so an implementation may
 * answer either way. Each suite file calls `clientRegistryContract` with a factory.
 */
import { describe, expect, it } from 'vitest';
import type { ClientLimits, ClientRegistry, ConnectionRate, Holder } from '../../src/mqtt/client-registry.js';

export const REGISTRY_HOST = 'example.org';

export type MakeRegistry = (host: string, rate: ConnectionRate) => ClientRegistry<Holder>;

const NO_LIMITS: ClientLimits = { max_connections: 0, max_connections_per_ip: 0 };

/** A rate gate that records what it was asked and answers `ok`. */
function rate(ok = true) {
  const asked: [string, string | null][] = [];
  return { asked, ok, takeConnection(ip: string, host: string | null) { asked.push([ip, host]); return this.ok; } };
}

const conn = (remoteIp = '10.0.0.1'): Holder => ({ remoteIp });

export function clientRegistryContract(name: string, make: MakeRegistry): void {
  describe(`ClientRegistry contract: ${name}`, () => {
    it('grants a free client id; the holder is found by id', async () => {
      const r = make(REGISTRY_HOST, rate());
      const a = conn();
      expect(await r.claim('c1', a, NO_LIMITS)).toEqual({ granted: true, previous: null });
      expect(r.local.get('c1')).toBe(a);
      expect(r.local.get('other')).toBeUndefined();
      expect(r.local.size).toBe(1);
      expect([...r.local.values()]).toEqual([a]);
    });

    it('a second claim of the id takes it over and names the previous holder [MQTT-3.1.4-2]', async () => {
      const r = make(REGISTRY_HOST, rate());
      const a = conn();
      const b = conn('10.0.0.2');
      await r.claim('c1', a, NO_LIMITS);
      expect(await r.claim('c1', b, NO_LIMITS)).toEqual({ granted: true, previous: a });
      expect(r.local.get('c1')).toBe(b);
      expect(r.local.size).toBe(1);
    });

    it("the taken-over holder's release frees nothing; the holder's own release frees the id", async () => {
      const r = make(REGISTRY_HOST, rate());
      const a = conn();
      const b = conn();
      await r.claim('c1', a, NO_LIMITS);
      await r.claim('c1', b, NO_LIMITS);
      r.release('c1', a);
      expect(r.local.get('c1')).toBe(b);
      r.release('c1', b);
      expect(r.local.get('c1')).toBeUndefined();
      expect(r.local.size).toBe(0);
    });

    it('max_connections_per_ip: a new client past it is refused; a takeover from the same address replaces one', async () => {
      const r = make(REGISTRY_HOST, rate());
      const limits = { max_connections: 0, max_connections_per_ip: 2 };
      await r.claim('c1', conn(), limits);
      await r.claim('c2', conn(), limits);
      expect(await r.claim('c3', conn(), limits)).toEqual({ granted: false, limit: 'max_connections_per_ip' });
      expect(r.local.get('c3')).toBeUndefined();
      expect(await r.claim('c3', conn('10.0.0.9'), limits)).toMatchObject({ granted: true });
      const again = conn();
      expect(await r.claim('c1', again, limits)).toMatchObject({ granted: true });
      expect(r.local.get('c1')).toBe(again);
    });

    it('max_connections: a new client id past it is refused, a takeover is not', async () => {
      const r = make(REGISTRY_HOST, rate());
      const limits = { max_connections: 2, max_connections_per_ip: 0 };
      await r.claim('c1', conn(), limits);
      await r.claim('c2', conn('10.0.0.2'), limits);
      expect(await r.claim('c3', conn('10.0.0.3'), limits)).toEqual({ granted: false, limit: 'max_connections' });
      expect(await r.claim('c2', conn('10.0.0.4'), limits)).toMatchObject({ granted: true });
      expect(r.local.size).toBe(2);
    });

    it('counts follow releases: a freed address and a freed client id take new clients again', async () => {
      const r = make(REGISTRY_HOST, rate());
      const limits = { max_connections: 1, max_connections_per_ip: 1 };
      const a = conn();
      await r.claim('c1', a, limits);
      expect(await r.claim('c2', conn(), limits)).toMatchObject({ granted: false });
      r.release('c1', a);
      expect(await r.claim('c2', conn(), limits)).toMatchObject({ granted: true });
    });

    it("the host's connection rate is taken last, for the claim's address and host, and refuses with its name", async () => {
      const gate = rate(false);
      const r = make(REGISTRY_HOST, gate);
      const limits = { max_connections: 0, max_connections_per_ip: 1 };
      expect(await r.claim('c1', conn('10.0.0.7'), limits)).toEqual({ granted: false, limit: 'max_connection_rate_per_ip' });
      expect(gate.asked).toEqual([['10.0.0.7', REGISTRY_HOST]]);
      expect(r.local.size).toBe(0);
      gate.ok = true;
      await r.claim('c1', conn('10.0.0.7'), limits);
      gate.asked.length = 0;
      // Refused by a count limit first: no rate token is taken.
      expect(await r.claim('c2', conn('10.0.0.7'), limits)).toEqual({ granted: false, limit: 'max_connections_per_ip' });
      expect(gate.asked).toEqual([]);
    });
  });
}
