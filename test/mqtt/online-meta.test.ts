/**
 * Issue 12 item 8: the change feed's `online` record of an MQTT client says who it is (username,
 * protocol level, keep alive, clean start, session expiry, address), as the `offline` one does: a
 * REST or SSE consumer that sees a client come online sees its fields. A takeover's record
 * carries the new connection's fields.
 */
import { describe, expect, it } from 'vitest';
import { rig } from './harness.js';

describe('presence meta of MQTT clients', () => {
  it('the online record carries the client fields; so does a takeover and the offline record', async () => {
    const r = rig();
    const a = r.client(5, '192.0.2.7');
    await a.connect({ keepalive: 30, clean: false, properties: { sessionExpiryInterval: 120 } }, 'dev-1');
    const b = r.client(4, '192.0.2.8');
    await b.connect({ keepalive: 45 }, 'dev-1');
    b.drop();
    await r.advance(0);
    const feed = r.presence.readFeed(0, 100);
    if (feed.kind !== 'ok') throw new Error('feed gone');
    const entries = feed.entries.filter((e) => e.id === 'dev-1');
    expect(entries.map((e) => [e.kind, e.takeover ?? null])).toEqual([['online', false], ['online', true], ['offline', null]]);
    expect(entries[0]!.row.meta).toMatchObject({ username: null, protocol_level: 5, keepalive: 30, clean_start: false, session_expiry: 120, ip: '192.0.2.7' });
    expect(entries[1]!.row.meta).toMatchObject({ protocol_level: 4, keepalive: 45, clean_start: true, session_expiry: 0, ip: '192.0.2.8' });
    expect(entries[2]!.row.meta).toMatchObject({ protocol_level: 4, ip: '192.0.2.8' });
  });
});
