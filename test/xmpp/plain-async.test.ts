/**
 * SASL PLAIN (RFC 4616) checked off the event loop: input arriving while the password is checked
 * is held and handled afterwards in order (RFC 6120 §6.4.5: the client waits for the outcome, but a
 * client that does not must not get its stanzas reordered), and a connection that goes away
 * meanwhile is simply forgotten.
 */
import { describe, expect, it } from 'vitest';
import { until } from '../support/until.js';
import { header, makeHarness } from './harness.js';

const auth = (user: string, password: string) =>
  `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\u0000${user}\u0000${password}`).toString('base64')}</auth>`;

describe('PLAIN checked on the thread pool', () => {
  it('holds what follows the <auth/> until the check ends, then handles it in order', async () => {
    const h = makeHarness({ host: { xmpp: { auth_failure_delay_ms: 0 } } });
    const c = h.connect();
    await c.send(header());
    c.take();
    // A wrong and a right attempt in one read: not-authorized first, then success.
    c.end.write(auth('alice', 'wrong') + auth('alice', 'secret'));
    await until(() => c.stanzas().some((s) => s.name === 'success'));
    expect(c.take().map((s) => s.name)).toEqual(['failure', 'success']);
    c.restart();
    await c.send(header());
    await c.send(`<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource></bind></iq>`);
    expect(c.stanzas().at(-1)?.attrs).toMatchObject({ type: 'result', id: 'b' });
  });

  it('a stream close sent right after <auth/> is handled after the outcome', async () => {
    const h = makeHarness();
    const c = h.connect();
    await c.send(header());
    c.take();
    c.end.write(auth('alice', 'secret') + '</stream:stream>');
    await until(() => c.stanzas().some((s) => s.name === 'success'));
    // The close was read with the old stream's parser before the restart <success/> asked for: void.
    expect(c.take().map((s) => s.name)).toEqual(['success']);
    expect(h.engine.connections()).toHaveLength(1);
    c.end.end();
    await until(() => h.engine.connections().length === 0);
    expect(h.engine.connections()).toHaveLength(0);
  });

  it('a connection that closes while its password is checked is forgotten, no write, no session', async () => {
    const h = makeHarness();
    const c = h.connect();
    await c.send(header());
    c.take();
    c.end.write(auth('alice', 'secret'));
    c.end.destroy();
    await until(() => h.engine.connections().length === 0);
    // Let the pending check finish: nothing may happen then.
    for (let i = 0; i < 200; i++) await new Promise((r) => setImmediate(r));
    expect(h.engine.connections()).toHaveLength(0);
    expect(h.events).toEqual([]);
  });
});
