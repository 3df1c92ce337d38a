/**
 * Whole streams in memory: an engine on manual time, clients on duplex pairs that log in with
 * PLAIN over an unencrypted stream (tls off + allow_plaintext_auth; TLS and SCRAM have their own
 * tests) and bind a resource.
 */
import { expect } from 'vitest';
import { type XmppEngine, createXmppEngine } from '../../src/xmpp/engine.js';
import type { RosterItem } from '../../src/store/types.js';
import { type XmlEl, text } from '../../src/xmpp/xml.js';
import { duplexPair } from '../support/duplex-pair.js';
import { TestClient, settle } from './duplex.js';
import { DOMAIN, type Rig, type RigOptions, makeRig } from './rig.js';

export const header = (to = DOMAIN) =>
  `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${to}' version='1.0'>`;

export interface Harness extends Rig {
  engine: XmppEngine;
  /** Raw connection, nothing sent yet. */
  connect(ip?: string): TestClient;
  login(user: string, resource: string, password?: string): Promise<TestClient>;
  /** SASL done and the stream restarted, nothing bound (to resume, XEP-0198 §5). */
  authenticate(user: string, ip?: string): Promise<TestClient>;
  /** Advance manual time by ms and let the streams deliver. */
  advance(ms: number): Promise<void>;
  subscribeBoth(a: string, b: string): void;
}

const PASSWORDS: Record<string, string> = { alice: 'secret', bob: 'hunter2', carol: 'pw3' };

export function makeHarness(opts: RigOptions = {}): Harness {
  const host = (opts.host ?? {}) as { xmpp?: Record<string, unknown>; ping?: Record<string, unknown> };
  const rig = makeRig({
    users: Object.entries(PASSWORDS),
    ...opts,
    host: { ...host, xmpp: { tls: 'off', allow_plaintext_auth: true, ...(host.xmpp ?? {}) } },
  });
  let n = 0;
  const engine = createXmppEngine(rig.deps, { random: () => `r${++n}`, closeGraceMs: 1_000 });
  const connect = (ip = '10.0.0.1') => {
    const [server, client] = duplexPair();
    engine.accept(server, ip);
    return new TestClient(client);
  };
  const authenticate = async (user: string, ip?: string, password = PASSWORDS[user] ?? ''): Promise<TestClient> => {
    const c = connect(ip);
    await c.send(header());
    const creds = Buffer.from(`\u0000${user}\u0000${password}`).toString('base64');
    await c.sendSasl(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${creds}</auth>`);
    expect(c.stanzas().at(-1)?.name).toBe('success');
    c.restart();
    await c.send(header());
    return c;
  };
  return {
    ...rig,
    engine,
    connect,
    authenticate: (user, ip) => authenticate(user, ip),
    async login(user, resource, password = PASSWORDS[user] ?? '') {
      const c = await authenticate(user, undefined, password);
      await c.send(`<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`);
      const bound = c.stanzas().at(-1);
      expect(bound?.attrs.type).toBe('result');
      expect(text(bound)).toBe(`${user}@${DOMAIN}/${resource}`);
      c.take();
      return c;
    },
    async advance(ms) {
      rig.manual?.advance(ms);
      await settle();
    },
    subscribeBoth(a, b) {
      const item = (jid: string): RosterItem => ({ jid, name: null, subscription: 'both', askOut: false, pendingIn: false, approved: false, groups: [] });
      rig.deps.store.rosters.put(DOMAIN, a, item(`${b}@${DOMAIN}`));
      rig.deps.store.rosters.put(DOMAIN, b, item(`${a}@${DOMAIN}`));
    },
  };
}

export function only(stanzas: XmlEl[], name: string): XmlEl[] {
  return stanzas.filter((s) => s.name === name);
}
