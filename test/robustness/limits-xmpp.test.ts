/**
 * XMPP limits of issue 8, each configured per host, each counted in
 * vigil_xmpp_limit_hits_total{limit} when hit: max_connections, max_connections_per_ip,
 * max_connection_rate_per_ip, handshake_timeout (slowloris), max_stanza_size, max_send_buffer
 * (slow readers), max_roster_size, auth_failure_delay_ms. Manual time, in-memory duplexes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RawConn, XmppControl } from '../fuzz/clients.js';
import { FUZZ_DOMAIN, streamHeader } from '../fuzz/xml-cases.js';
import { type World, type WorldOptions, makeWorld, settle } from '../fuzz/world.js';
import { trickle, xmppLimitHits } from './metrics.js';
import { until } from '../support/until.js';

let world: World;
afterEach(() => world.stop());
const start = (xmpp: Record<string, unknown>, extra: WorldOptions = {}) => {
  world = makeWorld({ ...extra, host: { xmpp } });
  return world;
};
const open = (ip = '203.0.113.1') => {
  const c = new RawConn(world, 'xmpp', ip, Infinity);
  c.write([Buffer.from(streamHeader())]);
  return c;
};
const plainAuth = (user: string, pw: string) =>
  `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\u0000${user}\u0000${pw}`).toString('base64')}</auth>`;

describe('XMPP limits', () => {
  it('max_connections: the listener refuses the socket past the sum of the hosts\' limits', async () => {
    start({ max_connections: 3 });
    const conns = [1, 2, 3, 4].map((i) => open(`203.0.113.${i}`));
    await settle();
    expect(conns.map((c) => c.closed)).toEqual([false, false, false, true]);
    expect(await xmppLimitHits(world, 'max_connections')).toBe(1);
  });

  it('max_connections_per_ip: the next stream from that address is refused', async () => {
    start({ max_connections_per_ip: 2 });
    const conns = [1, 2, 3].map(() => open());
    await settle();
    expect(conns.map((c) => c.closed)).toEqual([false, false, true]);
    expect(await xmppLimitHits(world, 'max_connections_per_ip')).toBe(1);
  });

  it('max_connection_rate_per_ip: a burst past the rate is refused, tokens come back with time', async () => {
    start({ max_connection_rate_per_ip: 6 }); // 6 a minute: one every 10 s
    const burst = [1, 2, 3, 4, 5, 6, 7].map(() => open('203.0.113.9'));
    const other = open('203.0.113.10');
    await settle();
    expect(burst.map((c) => c.closed)).toEqual([false, false, false, false, false, false, true]);
    expect(other.closed).toBe(false);
    expect(await xmppLimitHits(world, 'max_connection_rate_per_ip')).toBe(1);
    for (const c of burst) c.destroy();
    await world.advance(1_000); // handshake_timeout is 2 s in the world; close the rest too
    await world.advance(10_000);
    const later = open('203.0.113.9');
    await settle();
    expect(later.closed).toBe(false);
  });

  it('slowloris: one byte a second never finishes the handshake, handshake_timeout closes it', async () => {
    start({ handshake_timeout: 10 });
    const c = new RawConn(world, 'xmpp', '203.0.113.20', Infinity);
    const sent = await trickle(world, c, Buffer.from(streamHeader()));
    expect(c.closed).toBe(true);
    expect(sent).toBeLessThanOrEqual(11);
    expect(c.streamError()).toBe('connection-timeout');
    expect(await xmppLimitHits(world, 'handshake_timeout')).toBe(1);
  });

  it('max_stanza_size: a larger stanza (before authentication too) closes with policy-violation', async () => {
    start({ max_stanza_size: 1024 });
    const c = open();
    c.write([Buffer.from(`<message><body>${'x'.repeat(2_000)}</body></message>`)]);
    await settle();
    await world.advance(600);
    expect(c.streamError()).toBe('policy-violation');
    expect(c.closed).toBe(true);
    expect(await xmppLimitHits(world, 'max_stanza_size')).toBe(1);
  });

  it('max_send_buffer: a client that stops reading is closed, the sender is not', async () => {
    start({ max_send_buffer: 65_536 });
    const a = new XmppControl(world, '203.0.113.30');
    const b = new XmppControl(world, '203.0.113.31');
    await a.login('control-a', 'pw-a');
    await b.login('control-b', 'pw-b');
    b.side.pause();
    for (let i = 0; i < 400 && !b.closed; i++) {
      a.message('control-b', 'y'.repeat(1_000));
      await settle(2);
    }
    expect(b.closed).toBe(true);
    expect(a.closed).toBe(false);
    expect(await xmppLimitHits(world, 'max_send_buffer')).toBe(1);
    expect(world.xmpp.connections()).toHaveLength(1);
  });

  it('max_roster_size: a roster set past it is not-allowed; a subscription that would add an item is dropped', async () => {
    start({ max_roster_size: 2 });
    const a = new XmppControl(world, '203.0.113.40');
    await a.login('control-a', 'pw-a');
    for (const n of [1, 2, 3]) a.send(`<iq type='set' id='r${n}'><query xmlns='jabber:iq:roster'><item jid='c${n}@${FUZZ_DOMAIN}'/></query></iq>`);
    await settle();
    const answers = a.events.flatMap((e) => (e.type === 'stanza' && e.el.name === 'iq' && e.el.attrs.id?.startsWith('r') ? [e.el] : []));
    expect(answers.map((i) => i.attrs.type)).toEqual(['result', 'result', 'error']);
    expect(JSON.stringify(answers[2])).toContain('not-allowed');
    const b = new XmppControl(world, '203.0.113.41');
    await b.login('control-b', 'pw-b');
    b.send(`<presence to='control-a@${FUZZ_DOMAIN}' type='subscribe'/>`);
    await settle();
    expect(world.deps.store.rosters.list(FUZZ_DOMAIN, 'control-a').map((i) => i.jid)).toEqual([`c1@${FUZZ_DOMAIN}`, `c2@${FUZZ_DOMAIN}`]);
    expect(await xmppLimitHits(world, 'max_roster_size')).toBe(2);
  });

  it('auth_failure_delay_ms: a failure is answered late, later failures from the address later still', async () => {
    start({ auth_failure_delay_ms: 1_000 });
    const failedAfter = async (): Promise<number> => {
      const c = open('203.0.113.50');
      await settle();
      const hits = await xmppLimitHits(world, 'auth_failure_delay');
      c.write([Buffer.from(plainAuth('control-a', 'wrong'))]);
      // The password is checked on the libuv pool (async PBKDF2): the delay starts once it failed.
      await until(async () => (await xmppLimitHits(world, 'auth_failure_delay')) !== hits, { what: 'the failed PLAIN check' });
      let waited = 0;
      while (!c.tail().includes('<failure')) {
        await world.advance(250);
        waited += 250;
        if (waited > 60_000) throw new Error('no failure answer');
      }
      c.destroy();
      return waited;
    };
    const first = await failedAfter();
    const second = await failedAfter();
    expect(first).toBe(1_000);
    expect(second).toBe(2_000);
    expect(await xmppLimitHits(world, 'auth_failure_delay')).toBe(2);
    // A right password from the same address is not delayed.
    const ok = new XmppControl(world, '203.0.113.50');
    await ok.login('control-a', 'pw-a');
  });
});
