/** The pure stream machine: one input, the effects it asks for (no sockets, no timers). */
import { describe, expect, it } from 'vitest';
import { bufferXor, h, hmac, keysFromSalted, saltedPassword, verifyPassword } from '../../src/auth/scram.js';
import { makeUserRecord } from '../../src/auth/users.js';
import { defaults } from '../../src/config/dsl.js';
import { xmppSchema } from '../../src/config/schema/xmpp.js';
import {
  type NegotiationCtx,
  type NegotiationEffect,
  type NegotiationInput,
  type NegotiationState,
  initialState,
  step,
} from '../../src/xmpp/negotiation.js';
import type { XmppHostOptions } from '../../src/xmpp/options.js';
import { type XmlEl, text, x } from '../../src/xmpp/xml.js';
import { createXmlStreamParser } from '../../src/xmpp/xml-stream.js';

const DOMAIN = 'example.org';
const alice = makeUserRecord(DOMAIN, 'alice', 'secret', { now: () => 0 }, 4096);

function ctxWith(patch: Partial<XmppHostOptions> = {}, extra: Partial<NegotiationCtx> = {}): NegotiationCtx {
  const opts = { ...defaults(xmppSchema), ...patch };
  return {
    hostOptions: (d) => (d === DOMAIN ? opts : undefined),
    lookupUser: (host, user) => (host === DOMAIN && user === 'alice' ? alice : undefined),
    nonce: () => 'SERVERNONCE',
    newStreamId: () => 'sid-1',
    tlsAvailable: true,
    defaultHost: DOMAIN,
    smOffered: () => opts.stream_management,
    ...extra,
  };
}

const open = (attrs: Record<string, string> = {}): NegotiationInput => ({
  type: 'open',
  name: 'stream:stream',
  attrs: { xmlns: 'jabber:client', 'xmlns:stream': 'http://etherx.jabber.org/streams', to: DOMAIN, version: '1.0', ...attrs },
});
const stanza = (el: XmlEl): NegotiationInput => ({ type: 'stanza', el });
const sasl = (name: string, attrs: Record<string, string>, body?: string) =>
  stanza(x(name, { xmlns: 'urn:ietf:params:xml:ns:xmpp-sasl', ...attrs }, body ?? null));

/** Parse what the machine sent (server stream header + elements). */
function sent(effects: NegotiationEffect[]): XmlEl[] {
  const p = createXmlStreamParser({ maxStanzaBytes: 1e6 });
  const doc = effects.flatMap((e) => (e.kind === 'send' || e.kind === 'open' ? [e.data] : [])).join('');
  const prefix = doc.startsWith('<?xml') || doc.startsWith('<stream:stream') ? '' : "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
  return p.write(prefix + doc).flatMap((e) => (e.type === 'stanza' ? [e.el] : []));
}

/**
 * Runs the inputs; an `admit` is answered with `admitted` and a PLAIN `verify-password` at once, as
 * the connection does.
 */
function run(ctx: NegotiationCtx, inputs: NegotiationInput[], from: NegotiationState = initialState(), admitted = true) {
  let state = from;
  let effects: NegotiationEffect[] = [];
  for (const i of inputs) {
    const r = step(state, i, ctx);
    state = r.state;
    effects = r.effects;
    if (effects.some((e) => e.kind === 'admit')) {
      const a = step(state, { type: 'admission', ok: admitted }, ctx);
      state = a.state;
      effects = a.effects;
    }
    const v = effects.find((e) => e.kind === 'verify-password');
    if (v) {
      const rec = ctx.lookupUser(v.host, v.user);
      const c = step(state, { type: 'password-checked', ok: rec !== undefined && verifyPassword('sha256', rec.scramSha256!, v.password) }, ctx);
      state = c.state;
      effects = c.effects;
    }
  }
  return { state, effects };
}

const closeOf = (effects: NegotiationEffect[]) => effects.find((e) => e.kind === 'close');

describe('stream header (RFC 6120 §4.2, §4.9.3)', () => {
  it('answers with a header and STARTTLS as the only feature when TLS is required (§5.3.1)', () => {
    const { state, effects } = run(ctxWith(), [open()]);
    expect(state.phase).toBe('negotiating');
    const [features] = sent(effects);
    expect(features?.children.map((c) => (typeof c === 'string' ? c : c.name))).toEqual(['starttls']);
  });

  it('echoes the client\'s `from` as `to` in our header (§4.7.2)', () => {
    const { effects } = run(ctxWith(), [open({ from: 'alice@example.org' })]);
    expect((effects[0] as { data: string }).data).toContain('to="alice@example.org"');
  });

  it('offers SCRAM-SHA-256, SCRAM-SHA-1 and no PLAIN before TLS when TLS is optional', () => {
    const { effects } = run(ctxWith({ tls: 'optional' }), [open()]);
    const mechs = sent(effects)[0]?.children.find((c): c is XmlEl => typeof c !== 'string' && c.name === 'mechanisms');
    expect(mechs?.children.map((m) => text(m as XmlEl))).toEqual(['SCRAM-SHA-256', 'SCRAM-SHA-1']);
  });

  it.each([
    ['host-unknown', { to: 'nowhere.example' }],
    ['invalid-namespace', { xmlns: 'jabber:server' }],
    ['invalid-namespace', { 'xmlns:stream': 'urn:wrong' }],
    ['unsupported-version', { version: '2.0' }],
    ['unsupported-version', { version: '' }],
  ])('closes with %s for %j, after sending our own header (§4.9.1.2)', (condition, attrs) => {
    const { state, effects } = run(ctxWith(), [open(attrs)]);
    expect(state.phase).toBe('closed');
    expect(effects[0]).toMatchObject({ kind: 'open' });
    expect((effects[0] as { data: string }).data).toContain('<stream:stream');
    expect(closeOf(effects)).toMatchObject({ error: condition, reason: 'protocol_error' });
  });

  it('asks the engine to admit the first header (connection limits) before offering anything', () => {
    const r = step(initialState(), open({ from: 'alice@example.org' }), ctxWith());
    expect(r.state.phase).toBe('admitting');
    expect(r.effects).toEqual([{ kind: 'admit', host: DOMAIN }]);
    const ok = step(r.state, { type: 'admission', ok: true }, ctxWith());
    expect(ok.state).toMatchObject({ phase: 'negotiating', peer: null });
    expect(ok.effects.map((e) => e.kind)).toEqual(['open']);
    expect((ok.effects[0] as { data: string }).data).toContain('to="alice@example.org"');
  });

  it('refuses a connection over the limits with policy-violation, our header first', () => {
    const { state, effects } = run(ctxWith(), [open()], initialState(), false);
    expect(state.phase).toBe('closed');
    expect(effects.map((e) => e.kind)).toEqual(['open', 'close']);
    expect(closeOf(effects)).toMatchObject({ error: 'policy-violation', text: 'too many connections from your address' });
  });

  it('asks for admission once: a header after a restart opens the stream at once', () => {
    const ctx = ctxWith();
    const tls = run(ctx, [open(), stanza(x('starttls', { xmlns: 'urn:ietf:params:xml:ns:xmpp-tls' }))]);
    const r = step(tls.state, open(), ctx);
    expect(r.state.phase).toBe('negotiating');
    expect(r.effects.map((e) => e.kind)).toEqual(['open']);
  });

  it('closes a handshake that does not finish in time with connection-timeout', () => {
    const { effects } = run(ctxWith(), [open(), { type: 'handshake-timeout' }]);
    expect(closeOf(effects)).toMatchObject({ error: 'connection-timeout' });
  });
});

describe('STARTTLS and SASL (RFC 6120 §5, §6)', () => {
  it('proceeds, upgrades, and restarts the stream on <starttls/>', () => {
    const { state, effects } = run(ctxWith(), [open(), stanza(x('starttls', { xmlns: 'urn:ietf:params:xml:ns:xmpp-tls' }))]);
    expect(state).toMatchObject({ phase: 'await-header', secure: true });
    expect(effects.map((e) => e.kind)).toEqual(['send', 'starttls', 'reset-parser']);
    expect(sent(effects)[0]?.name).toBe('proceed');
  });

  it('answers <auth/> on a plain stream with encryption-required when TLS is required', () => {
    const { state, effects } = run(ctxWith(), [open(), sasl('auth', { mechanism: 'SCRAM-SHA-1' })]);
    expect(state.phase).toBe('negotiating');
    expect(sent(effects)[0]?.children[0]).toMatchObject({ name: 'encryption-required' });
  });

  it('refuses PLAIN on a plain stream (invalid-mechanism) unless allow_plaintext_auth', () => {
    const plain = Buffer.from('\u0000alice\u0000secret').toString('base64');
    const refused = run(ctxWith({ tls: 'off' }), [open(), sasl('auth', { mechanism: 'PLAIN' }, plain)]);
    expect(sent(refused.effects)[0]?.children[0]).toMatchObject({ name: 'invalid-mechanism' });
    const ok = run(ctxWith({ tls: 'off', allow_plaintext_auth: true }), [open(), sasl('auth', { mechanism: 'PLAIN' }, plain)]);
    expect(ok.state).toMatchObject({ phase: 'await-header', user: 'alice' });
    expect(ok.effects.map((e) => e.kind)).toEqual(['send', 'authenticated', 'reset-parser']);
  });

  it.each([
    ['alice@example.org', 'Alice', 'success'],
    ['', 'ALICE', 'success'],
    ['bob@example.org', 'alice', 'invalid-authzid'],
    ['', 'al ice', 'not-authorized'],
  ])('PLAIN authzid %j authcid %j -> %s (RFC 6120 §6.3.8, case-folded localpart)', (authzid, authcid, outcome) => {
    const payload = Buffer.from(`${authzid}\u0000${authcid}\u0000secret`).toString('base64');
    const { effects } = run(ctxWith({ tls: 'off', allow_plaintext_auth: true }), [open(), sasl('auth', { mechanism: 'PLAIN' }, payload)]);
    const el = sent(effects)[0];
    expect(el?.name === 'success' ? 'success' : (el?.children[0] as XmlEl | undefined)?.name).toBe(outcome);
  });

  it('fails a wrong PLAIN password with not-authorized, bad base64 with incorrect-encoding, and closes after 3 failures', () => {
    const ctx = ctxWith({ tls: 'off', allow_plaintext_auth: true });
    const bad = Buffer.from('\u0000alice\u0000nope').toString('base64');
    const first = run(ctx, [open(), sasl('auth', { mechanism: 'PLAIN' }, bad)]);
    expect(sent(first.effects)[0]?.children[0]).toMatchObject({ name: 'not-authorized' });
    const second = run(ctx, [sasl('auth', { mechanism: 'PLAIN' }, '!!!')], first.state);
    expect(sent(second.effects)[0]?.children[0]).toMatchObject({ name: 'incorrect-encoding' });
    const third = run(ctx, [sasl('auth', { mechanism: 'PLAIN' }, bad)], second.state);
    expect(closeOf(third.effects)).toMatchObject({ error: 'policy-violation' });
  });

  it('authenticates SCRAM-SHA-1 end to end and proves the server signature (RFC 5802 §3)', () => {
    const ctx = ctxWith({ tls: 'off' });
    const clientFirstBare = 'n=alice,r=CLIENTNONCE';
    const r1 = run(ctx, [open(), sasl('auth', { mechanism: 'SCRAM-SHA-1' }, Buffer.from(`n,,${clientFirstBare}`).toString('base64'))]);
    const challenge = sent(r1.effects)[0];
    expect(challenge?.name).toBe('challenge');
    const serverFirst = Buffer.from(text(challenge), 'base64').toString();
    const parts = Object.fromEntries(serverFirst.split(',').map((p) => [p[0], p.slice(2)]));
    expect(parts.r).toBe('CLIENTNONCESERVERNONCE');
    const salted = saltedPassword('sha1', 'secret', Buffer.from(parts.s ?? '', 'base64'), Number(parts.i));
    const { clientKey, serverKey } = keysFromSalted('sha1', salted);
    const withoutProof = `c=biws,r=${parts.r}`;
    const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
    const proof = bufferXor(clientKey, hmac('sha1', h('sha1', clientKey), authMessage)).toString('base64');
    const r2 = run(ctx, [sasl('response', {}, Buffer.from(`${withoutProof},p=${proof}`).toString('base64'))], r1.state);
    const success = sent(r2.effects)[0];
    expect(success?.name).toBe('success');
    expect(Buffer.from(text(success), 'base64').toString()).toBe(`v=${hmac('sha1', serverKey, authMessage).toString('base64')}`);
    expect(r2.state.user).toBe('alice');
  });

  it('fails SCRAM for an unknown user only at the proof, like a wrong password', () => {
    const ctx = ctxWith({ tls: 'off' });
    const r1 = run(ctx, [open(), sasl('auth', { mechanism: 'SCRAM-SHA-256' }, Buffer.from('n,,n=mallory,r=abc').toString('base64'))]);
    expect(sent(r1.effects)[0]?.name).toBe('challenge');
    const serverFirst = Buffer.from(text(sent(r1.effects)[0]), 'base64').toString();
    const nonce = serverFirst.split(',')[0]?.slice(2);
    const r2 = run(ctx, [sasl('response', {}, Buffer.from(`c=biws,r=${nonce},p=${Buffer.alloc(32).toString('base64')}`).toString('base64'))], r1.state);
    expect(sent(r2.effects)[0]?.children[0]).toMatchObject({ name: 'not-authorized' });
  });

  it('answers <abort/> with aborted and a malformed first message with malformed-request', () => {
    const ctx = ctxWith({ tls: 'off' });
    const r1 = run(ctx, [open(), sasl('auth', { mechanism: 'SCRAM-SHA-1' })]);
    expect(sent(r1.effects)[0]?.name).toBe('challenge');
    const r2 = run(ctx, [sasl('abort', {})], r1.state);
    expect(sent(r2.effects)[0]?.children[0]).toMatchObject({ name: 'aborted' });
    const r3 = run(ctx, [sasl('auth', { mechanism: 'SCRAM-SHA-1' }, Buffer.from('garbage').toString('base64'))], r2.state);
    expect(sent(r3.effects)[0]?.children[0]).toMatchObject({ name: 'malformed-request' });
  });

  it('closes with not-authorized when a stanza comes before authentication', () => {
    const { effects } = run(ctxWith({ tls: 'off' }), [open(), stanza(x('message', { to: 'bob@example.org' }))]);
    expect(closeOf(effects)).toMatchObject({ error: 'not-authorized' });
  });
});

describe('bind (RFC 6120 §7)', () => {
  const authed = (): NegotiationState => ({ ...initialState(), phase: 'negotiating', host: DOMAIN, secure: true, user: 'alice', streamId: 's' });

  it('offers bind (and optional session), stream management and CSI after authentication (XEP-0198 §2, XEP-0352 §4.1)', () => {
    const { effects } = run(ctxWith(), [open()], { ...authed(), phase: 'await-header' });
    const features = sent(effects)[0];
    expect(features?.children.map((c) => (c as XmlEl).name)).toEqual(['bind', 'session', 'sm', 'csi']);
    expect((features?.children[2] as XmlEl).attrs.xmlns).toBe('urn:xmpp:sm:3');
    const off = run(ctxWith({ stream_management: false }), [open()], { ...authed(), phase: 'await-header' });
    expect(sent(off.effects)[0]?.children.map((c) => (c as XmlEl).name)).toEqual(['bind', 'session', 'csi']);
  });

  it('before binding: <resume/> asks the connection, <enable/> fails (XEP-0198 §3), CSI is ignored; after: nonzas are handed on', () => {
    const sm = (name: string, attrs: Record<string, string> = {}) => stanza(x(name, { xmlns: 'urn:xmpp:sm:3', ...attrs }));
    const resume = run(ctxWith(), [sm('resume', { previd: 'abc', h: '7' })], authed());
    expect(resume.effects).toEqual([{ kind: 'resume', previd: 'abc', h: 7 }]);
    expect(run(ctxWith(), [{ type: 'resumed' }], resume.state).state.phase).toBe('bound');
    const enable = run(ctxWith(), [sm('enable')], authed());
    expect(enable.state.phase).toBe('negotiating');
    expect(enable.effects).toEqual([{ kind: 'send', data: expect.stringContaining('<unexpected-request') }]);
    expect(run(ctxWith(), [sm('resume', { previd: 'abc', h: '-1' })], authed()).effects).toEqual([{ kind: 'send', data: expect.stringContaining('<bad-request') }]);
    expect(run(ctxWith(), [stanza(x('inactive', { xmlns: 'urn:xmpp:csi:0' }))], authed()).effects).toEqual([]);
    const bound = { ...authed(), phase: 'bound' as const };
    expect(run(ctxWith(), [sm('r')], bound).effects).toEqual([{ kind: 'nonza', el: x('r', { xmlns: 'urn:xmpp:sm:3' }) }]);
    // Before authentication a nonza is just something else than SASL.
    expect(closeOf(run(ctxWith(), [sm('enable')], { ...authed(), user: null }).effects)).toMatchObject({ error: 'not-authorized' });
  });

  it('asks for a bind and answers with the JID once bound', () => {
    const bindIq = x('iq', { type: 'set', id: 'b1' }, x('bind', { xmlns: 'urn:ietf:params:xml:ns:xmpp-bind' }, x('resource', {}, 'laptop')));
    const r1 = run(ctxWith(), [stanza(bindIq)], authed());
    expect(r1.effects).toEqual([{ kind: 'bind', id: 'b1', resource: 'laptop' }]);
    const r2 = run(ctxWith(), [{ type: 'bound', id: 'b1', jid: 'alice@example.org/laptop' }], r1.state);
    expect(r2.state.phase).toBe('bound');
    expect(text(sent(r2.effects)[0])).toBe('alice@example.org/laptop');
  });

  it('passes stanzas on once bound, refuses unknown top-level elements (unsupported-stanza-type)', () => {
    const bound = { ...authed(), phase: 'bound' as const };
    expect(run(ctxWith(), [stanza(x('message'))], bound).effects).toEqual([{ kind: 'stanza', el: x('message') }]);
    expect(closeOf(run(ctxWith(), [stanza(x('foo'))], bound).effects)).toMatchObject({ error: 'unsupported-stanza-type' });
    expect(run(ctxWith(), [{ type: 'close' }], bound).effects).toEqual([{ kind: 'close', reason: 'client_close', error: null }]);
  });
});
