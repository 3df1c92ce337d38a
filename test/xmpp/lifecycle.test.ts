/**
 * The c2s connection's lifecycle (src/xmpp/connection.ts): one phase, moved by what the stream
 * does, and our stream header sent exactly once per stream because the stream machine says when it
 * goes out (RFC 6120 §4.2, §4.3.3 restart, §4.4 close, §4.9.1.2 error before a header).
 */
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../src/xmpp/connection.js';
import { AWAITING_HEADER, LIFECYCLE_MOVES, type Lifecycle, type LifecyclePhase, STREAMING, moved } from '../../src/xmpp/lifecycle.js';
import { settle } from './duplex.js';
import { DOMAIN } from './rig.js';
import { header, makeHarness } from './harness.js';

const PLAIN = `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\u0000alice\u0000secret').toString('base64')}</auth>`;
const headersIn = (raw: string) => raw.split('<stream:stream').length - 1;

describe('connection lifecycle', () => {
  it('awaiting-header -> streaming -> (SASL restart) awaiting-header -> streaming -> closing -> ended', async () => {
    const h = makeHarness();
    const c = h.connect();
    const conn: Connection = h.engine.connections()[0]!;
    expect(conn.lifecycle).toBe('awaiting-header');
    await c.send(header());
    expect(conn.lifecycle).toBe('streaming');
    await c.sendSasl(PLAIN);
    expect(c.stanzas().at(-1)?.name).toBe('success');
    expect(conn.lifecycle).toBe('awaiting-header');
    c.restart();
    await c.send(header());
    expect(conn.lifecycle).toBe('streaming');
    expect(headersIn(c.raw)).toBe(2);
    await c.send('</stream:stream>');
    expect(conn.lifecycle).toBe('closing');
    c.end.end();
    await settle();
    expect(conn.lifecycle).toBe('ended');
    expect(h.engine.connections()).toEqual([]);
  });

  it('a kill between a restart and the new header opens a stream for the error (one header per stream)', async () => {
    const h = makeHarness();
    const c = h.connect();
    const conn = h.engine.connections()[0]!;
    await c.send(header());
    await c.sendSasl(PLAIN);
    c.restart();
    conn.kill('shutdown');
    conn.kill('kicked'); // closing: nothing more is written
    await settle();
    expect(headersIn(c.raw)).toBe(2);
    expect(c.streamError()).toBe('system-shutdown');
    expect(c.raw.endsWith('</stream:stream>')).toBe(true);
    expect(conn.lifecycle).toBe('closing');
  });

  it('a kill on an open stream sends no second header', async () => {
    const h = makeHarness();
    const c = await h.login('alice', 'laptop');
    const before = headersIn(c.raw);
    h.engine.connections()[0]!.kill('kicked');
    await settle();
    expect(headersIn(c.raw)).toBe(before);
    expect(c.streamError()).toBe('policy-violation');
  });

  it('the peer ending its side: closing at once, the bound session offline with socket_error, then ended', async () => {
    const h = makeHarness();
    const c = await h.login('alice', 'laptop');
    const conn = h.engine.connections()[0]!;
    c.end.end();
    await settle();
    expect(h.events.flatMap((e) => (e.type === 'offline' ? [e.reason] : []))).toEqual(['socket_error']);
    expect(conn.lifecycle).toBe('ended');
    expect(conn.session).toBeNull();
  });

  it('a refused admission is a policy-violation inside our header, and the connection ends', async () => {
    const h = makeHarness({ host: { xmpp: { max_connections_per_ip: 1 } }, hosts: { 'other.example': { xmpp: { max_connections_per_ip: 2 } } } });
    await h.login('alice', 'laptop');
    const c = h.connect();
    const conn = h.engine.connections()[1]!;
    await c.send(header());
    expect(c.events[0]).toMatchObject({ type: 'open', attrs: { from: DOMAIN } });
    expect(c.streamError()).toBe('policy-violation');
    expect(headersIn(c.raw)).toBe(1);
    expect(conn.lifecycle).toBe('closing');
  });
});

describe('lifecycle moves (src/xmpp/lifecycle.ts)', () => {
  const of = (phase: LifecyclePhase): Lifecycle =>
    phase === 'awaiting-header' ? AWAITING_HEADER : phase === 'streaming' ? STREAMING : phase === 'closing' ? { phase, reason: 'kicked', grace: null } : { phase, reason: 'kicked' };
  const phases = Object.keys(LIFECYCLE_MOVES) as LifecyclePhase[];

  it('allows exactly the drawn moves: restart only from streaming, nothing back from closing, nothing after ended', () => {
    const legal = phases.flatMap((from) => phases.filter((to) => {
      try {
        moved(of(from), of(to));
        return true;
      } catch {
        return false;
      }
    }).map((to) => `${from}->${to}`));
    expect(legal).toEqual([
      'awaiting-header->streaming',
      'awaiting-header->closing',
      'awaiting-header->ended',
      'streaming->awaiting-header',
      'streaming->closing',
      'streaming->ended',
      'closing->ended',
    ]);
  });
});
