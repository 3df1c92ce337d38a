/**
 * The c2s stream state machine, pure: `step(state, input, ctx) -> { state, effects }`.
 * It never touches a socket or a timer; connection.ts carries out the effects.
 *
 * RFC 6120 §4.3 order, one `phase` field:
 *
 *   await-header --first header--> admitting --admitted--> negotiating                       [§4.2]
 *   admitting --refused (connection limits)--> closed (policy-violation)
 *   await-header --header after a restart--> negotiating --<starttls/>--> (proceed, restart) await-header   [§5]
 *   negotiating --<auth/>--> sasl --challenge/response...--> success (restart) await-header [§6]
 *   negotiating(authenticated) --<iq><bind/></iq>--> binding --bound--> bound                [§7]
 *   negotiating(authenticated) --<resume/> (effect `resume`)--> resumed: bound, or <failed/>:
 *     still negotiating, the client may bind (XEP-0198 §5)
 *   bound: every stanza is handed on (effect `stanza`), XEP-0198/XEP-0352 nonzas too (effect
 *     `nonza`); </stream:stream> closes.
 *   any phase --stream error--> closed
 *
 * Invariants: TLS comes before SASL when tls=required; PLAIN is never accepted on a plain stream
 * unless allow_plaintext_auth; no stanza is processed before the resource is bound (§7.1); our
 * stream header leaves in an `open` effect, exactly once per stream (phase await-header/admitting
 * until then), so the connection knows whether an error needs a header first (§4.9.1.2).
 * Admission (per-IP and per-host connection limits) is the engine's: the machine asks with an
 * `admit` effect and waits for `admission` (no other input arrives before it).
 */
import type { DisconnectReason } from '../liveness/types.js';
import type { UserRecord } from '../store/types.js';
import type { XmppHostOptions } from './options.js';
import { NS_SASL, type SaslCondition, type SaslMechanism, type SaslStep, decodeSaslPayload, failure, saslStepXml } from './sasl.js';
import { createPlain } from './sasl-plain.js';
import { createScram } from './sasl-scram.js';
import { NS_STREAMS, type StreamErrorCondition } from './stream-errors.js';
import { NS_CSI, NS_SM } from './stream-mgmt/protocol.js';
import { isNonza, unboundNonza } from './stream-mgmt/nonza.js';
import type { ParseErrorCondition } from './xml-stream.js';
import { type XmlEl, child, openTag, serialize, text, x } from './xml.js';

export const NS_CLIENT = 'jabber:client';
export const NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls';
export const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';
export const NS_SESSION = 'urn:ietf:params:xml:ns:xmpp-session';
const MAX_SASL_FAILURES = 3;

export type Phase = 'await-header' | 'admitting' | 'negotiating' | 'sasl' | 'binding' | 'bound' | 'closed';

export interface NegotiationState {
  phase: Phase;
  /** Domain from the first stream header (fixed for the connection). */
  host: string | null;
  secure: boolean;
  /** Localpart once SASL succeeded. */
  user: string | null;
  streamId: string | null;
  saslFailures: number;
  /** Set while phase = 'sasl'. */
  mechanism: { name: string; impl: SaslMechanism } | null;
  /** PLAIN: the user whose password is being checked (phase 'sasl'); the connection holds input meanwhile. */
  verifying: string | null;
  /** The client's `from` on its first header, echoed as our `to` (§4.7.2); kept only while admitting. */
  peer: string | null;
}

export type NegotiationInput =
  | { type: 'open'; name: string; attrs: Record<string, string> }
  | { type: 'stanza'; el: XmlEl }
  | { type: 'close' }
  | { type: 'parse-error'; condition: ParseErrorCondition; text: string }
  | { type: 'handshake-timeout' }
  | { type: 'bound'; id: string | undefined; jid: string }
  | { type: 'bind-failed'; id: string | undefined; condition: 'conflict' | 'not-allowed' | 'bad-request' | 'resource-constraint' }
  /** The outcome of a `verify-password` effect. */
  | { type: 'password-checked'; ok: boolean }
  /** The outcome of an `admit` effect: the connection limits let this stream in, or not. */
  | { type: 'admission'; ok: boolean }
  /** A `resume` effect succeeded: the stream carries the resumed session (XEP-0198 §5). */
  | { type: 'resumed' };

export type NegotiationEffect =
  /** Our stream header (RFC 6120 §4.7), with whatever follows it in the same write: the stream is open on our side. */
  | { kind: 'open'; data: string }
  | { kind: 'send'; data: string }
  /** Count this stream against the connection limits of `host`, then feed `admission`. */
  | { kind: 'admit'; host: string }
  /** Send <proceed/> was already queued; upgrade the socket to TLS, then reset the parser. */
  | { kind: 'starttls' }
  /** Stream restart (§4.3.3): discard the parser state, expect a new header. */
  | { kind: 'reset-parser' }
  | { kind: 'authenticated'; user: string; mechanism: string }
  | { kind: 'auth-failed'; condition: SaslCondition }
  /** RFC 4616 §2: check this PLAIN password, then feed `password-checked` (no other input until then). */
  | { kind: 'verify-password'; host: string; user: string; password: string }
  | { kind: 'bind'; id: string | undefined; resource: string | null }
  | { kind: 'stanza'; el: XmlEl }
  /** An XEP-0198 or XEP-0352 nonza on a bound stream. */
  | { kind: 'nonza'; el: XmlEl }
  /** XEP-0198 §5: resume the session `previd` (the client handled `h` stanzas); then feed `resumed`, or send <failed/>. */
  | { kind: 'resume'; previd: string; h: number }
  /** End the stream: send the error (if any) and </stream:stream>, then close the socket. */
  | { kind: 'close'; reason: DisconnectReason; error: StreamErrorCondition | null; text?: string };

export interface NegotiationCtx {
  hostOptions(domain: string): XmppHostOptions | undefined;
  lookupUser(host: string, user: string): UserRecord | undefined;
  nonce(): string;
  newStreamId(): string;
  /** A certificate is loaded, STARTTLS can be offered. */
  tlsAvailable: boolean;
  /** Host used in the header of an error sent before any valid header. */
  defaultHost: string;
  /** XEP-0198 is offered on this host now (its stream_management setting). */
  smOffered(host: string): boolean;
}

export interface StepResult {
  state: NegotiationState;
  effects: NegotiationEffect[];
}

export function initialState(): NegotiationState {
  return { phase: 'await-header', host: null, secure: false, user: null, streamId: null, saslFailures: 0, mechanism: null, verifying: null, peer: null };
}

const closeWith = (
  state: NegotiationState,
  ctx: NegotiationCtx,
  error: StreamErrorCondition,
  reason: DisconnectReason = 'protocol_error',
  msg?: string,
): StepResult => {
  const effects: NegotiationEffect[] = [];
  // §4.9.1.2: an error before the stream is open still needs our stream header first.
  if (state.phase === 'await-header' || state.phase === 'admitting') {
    effects.push({ kind: 'open', data: header(state.host ?? ctx.defaultHost, state.streamId ?? ctx.newStreamId()) });
  }
  effects.push(msg === undefined ? { kind: 'close', reason, error } : { kind: 'close', reason, error, text: msg });
  return { state: { ...state, phase: 'closed', mechanism: null, verifying: null, peer: null }, effects };
};

/** Our stream header (RFC 6120 §4.7), with the XML declaration. */
export function header(host: string, id: string, to?: string): string {
  return `<?xml version='1.0'?>${openTag('stream:stream', {
    xmlns: NS_CLIENT,
    'xmlns:stream': NS_STREAMS,
    id,
    from: host,
    // §4.7.2: echo the initiating entity's `from` (its JID) as our `to`, when it gave one.
    to,
    version: '1.0',
    'xml:lang': 'en',
  })}`;
}

export function mechanismsFor(opts: XmppHostOptions, secure: boolean): string[] {
  const m = ['SCRAM-SHA-256', 'SCRAM-SHA-1'];
  if (secure || opts.allow_plaintext_auth) m.push('PLAIN');
  return m.filter((name) => !opts.disable_sasl_mechanisms.includes(name));
}

function features(state: NegotiationState, opts: XmppHostOptions, ctx: NegotiationCtx): XmlEl {
  if (state.user !== null) {
    // §7.4 bind; RFC 3921 session kept for old clients, marked optional (RFC 6121 Appendix E);
    // XEP-0198 §2 and XEP-0352 §4.1 once authenticated.
    const sm = ctx.smOffered(state.host ?? '') ? x('sm', { xmlns: NS_SM }) : null;
    return x('stream:features', {}, x('bind', { xmlns: NS_BIND }), x('session', { xmlns: NS_SESSION }, x('optional')), sm, x('csi', { xmlns: NS_CSI }));
  }
  const offerTls = !state.secure && opts.tls !== 'off' && ctx.tlsAvailable;
  const tlsRequired = offerTls && opts.tls === 'required';
  const starttls = offerTls ? x('starttls', { xmlns: NS_TLS }, tlsRequired ? x('required') : null) : null;
  // §5.3.1: when TLS is mandatory-to-negotiate, offer only STARTTLS.
  const mechs = tlsRequired
    ? null
    : x('mechanisms', { xmlns: NS_SASL }, mechanismsFor(opts, state.secure).map((m) => x('mechanism', {}, m)));
  return x('stream:features', {}, starttls, mechs);
}

/** Serialised features per host options object (a reload makes new ones) and the three inputs. */
const featuresCache = new WeakMap<XmppHostOptions, Map<string, string>>();

function featuresXml(state: NegotiationState, opts: XmppHostOptions, ctx: NegotiationCtx): string {
  let byCase = featuresCache.get(opts);
  if (!byCase) featuresCache.set(opts, (byCase = new Map()));
  const key = `${state.user !== null}${state.secure}${ctx.tlsAvailable}${state.user !== null && ctx.smOffered(state.host ?? '')}`;
  let xml = byCase.get(key);
  if (xml === undefined) byCase.set(key, (xml = serialize(features(state, opts, ctx))));
  return xml;
}

function onHeader(state: NegotiationState, input: Extract<NegotiationInput, { type: 'open' }>, ctx: NegotiationCtx): StepResult {
  const { attrs } = input;
  const to = (attrs.to ?? '').toLowerCase();
  const first = state.host === null;
  const host = state.host ?? (ctx.hostOptions(to) ? to : null);
  const next: NegotiationState = { ...state, streamId: ctx.newStreamId(), host: host ?? state.host };
  // §4.9.3.6: unknown or changed `to` after a restart.
  if (host === null || (!first && to !== state.host)) return closeWith(next, ctx, 'host-unknown');
  // §4.8.1 / §4.9.3.10: stream namespace and content namespace.
  if (input.name !== 'stream:stream' || attrs['xmlns:stream'] !== NS_STREAMS) return closeWith(next, ctx, 'invalid-namespace');
  if (attrs.xmlns !== NS_CLIENT) return closeWith(next, ctx, 'invalid-namespace');
  // §4.7.5: a missing version means 0.9; we speak 1.x only (§4.9.3.25).
  const major = Number((attrs.version ?? '0.9').split('.')[0]);
  if (!(major === 1)) return closeWith(next, ctx, 'unsupported-version');
  if (!ctx.hostOptions(host)) return closeWith(next, ctx, 'host-unknown');
  const peer = attrs.from !== undefined && /^[^\s<>"'&]{1,3071}$/.test(attrs.from) ? attrs.from : null;
  // The first header of a connection counts against its limits before anything is offered.
  if (first) return { state: { ...next, phase: 'admitting', peer }, effects: [{ kind: 'admit', host }] };
  return openStream(next, peer, ctx);
}

/** Our header and the features: the stream is open (phase negotiating). */
function openStream(state: NegotiationState, peer: string | null, ctx: NegotiationCtx): StepResult {
  const opts = ctx.hostOptions(state.host ?? '');
  if (!opts) return closeWith(state, ctx, 'host-unknown');
  const out = header(state.host ?? '', state.streamId ?? '', peer ?? undefined) + featuresXml(state, opts, ctx);
  return { state: { ...state, phase: 'negotiating', peer: null }, effects: [{ kind: 'open', data: out }] };
}

function createMechanism(name: string, state: NegotiationState, ctx: NegotiationCtx, opts: XmppHostOptions): SaslMechanism | null {
  const host = state.host ?? '';
  const saslCtx = { host, lookupUser: (u: string) => ctx.lookupUser(host, u), nonce: ctx.nonce, secure: state.secure };
  if (!mechanismsFor(opts, state.secure).includes(name)) return null;
  if (name === 'SCRAM-SHA-256') return createScram('sha256', saslCtx);
  if (name === 'SCRAM-SHA-1') return createScram('sha1', saslCtx);
  if (name === 'PLAIN') return createPlain(saslCtx, opts.allow_plaintext_auth);
  return null;
}

const SUCCESS_XML = serialize(saslStepXml({ kind: 'success', user: '', data: null }));

function saslOutcome(state: NegotiationState, step: SaslStep, mechName: string): StepResult {
  if (step.kind === 'verify') {
    const effect = { kind: 'verify-password', host: state.host ?? '', user: step.user, password: step.password } as const;
    return { state: { ...state, phase: 'sasl', verifying: step.user }, effects: [effect] };
  }
  const data = step.kind === 'success' && step.data === null ? SUCCESS_XML : serialize(saslStepXml(step));
  const send = { kind: 'send', data } as const;
  if (step.kind === 'challenge') return { state: { ...state, phase: 'sasl' }, effects: [send] };
  if (step.kind === 'success') {
    // §6.4.6: after <success/> the client restarts the stream.
    return {
      state: { ...state, phase: 'await-header', user: step.user, mechanism: null, verifying: null },
      effects: [send, { kind: 'authenticated', user: step.user, mechanism: mechName }, { kind: 'reset-parser' }],
    };
  }
  const failures = state.saslFailures + 1;
  const next: NegotiationState = { ...state, phase: 'negotiating', mechanism: null, saslFailures: failures, verifying: null };
  const effects: NegotiationEffect[] = [send, { kind: 'auth-failed', condition: step.condition }];
  if (failures >= MAX_SASL_FAILURES) {
    return { state: { ...next, phase: 'closed' }, effects: [...effects, { kind: 'close', reason: 'protocol_error', error: 'policy-violation', text: 'too many authentication failures' }] };
  }
  return { state: next, effects };
}

function onNegotiating(state: NegotiationState, el: XmlEl, ctx: NegotiationCtx): StepResult {
  const opts = ctx.hostOptions(state.host ?? '');
  if (!opts) return closeWith(state, ctx, 'host-unknown');
  const ns = el.attrs.xmlns;
  if (el.name === 'starttls' && ns === NS_TLS) {
    if (state.secure || state.user !== null || opts.tls === 'off' || !ctx.tlsAvailable) {
      // §5.4.2.2: a STARTTLS we did not offer -> <failure/> and close.
      return { state: { ...state, phase: 'closed' }, effects: [{ kind: 'send', data: serialize(x('failure', { xmlns: NS_TLS })) }, { kind: 'close', reason: 'protocol_error', error: null }] };
    }
    return {
      state: { ...state, phase: 'await-header', secure: true },
      effects: [{ kind: 'send', data: serialize(x('proceed', { xmlns: NS_TLS })) }, { kind: 'starttls' }, { kind: 'reset-parser' }],
    };
  }
  if (el.name === 'auth' && ns === NS_SASL && state.user === null) {
    if (!state.secure && opts.tls === 'required') {
      return saslOutcome(state, { kind: 'failure', condition: 'encryption-required' }, '');
    }
    const name = el.attrs.mechanism ?? '';
    const mech = createMechanism(name, state, ctx, opts);
    if (!mech) return saslOutcome(state, { kind: 'failure', condition: 'invalid-mechanism' }, name);
    const payload = decodeSaslPayload(text(el));
    if (payload === 'bad') return saslOutcome(state, { kind: 'failure', condition: 'incorrect-encoding' }, name);
    return saslOutcome({ ...state, mechanism: { name, impl: mech } }, mech.start(payload), name);
  }
  if (state.user !== null && isNonza(el)) {
    const r = unboundNonza(el, ctx.smOffered(state.host ?? ''));
    if (r.kind === 'resume') return { state, effects: [{ kind: 'resume', previd: r.previd, h: r.h }] };
    return { state, effects: r.kind === 'send' ? [{ kind: 'send', data: r.xml }] : [] };
  }
  if (el.name === 'iq' && state.user !== null && (ns === undefined || ns === NS_CLIENT)) {
    const bind = child(el, 'bind', NS_BIND);
    if (bind && el.attrs.type === 'set') {
      const resource = child(bind, 'resource')?.children.length ? text(child(bind, 'resource')).trim() : '';
      return { state: { ...state, phase: 'binding' }, effects: [{ kind: 'bind', id: el.attrs.id, resource: resource === '' ? null : resource }] };
    }
  }
  // §6.4 / §7.1: nothing but negotiation before the resource is bound.
  return closeWith(state, ctx, 'not-authorized');
}

function onSasl(state: NegotiationState, el: XmlEl, ctx: NegotiationCtx): StepResult {
  const mech = state.mechanism?.impl;
  const name = state.mechanism?.name ?? '';
  // Nothing may arrive while a PLAIN password is checked (the connection holds input meanwhile).
  if (state.verifying !== null) return closeWith(state, ctx, 'not-authorized');
  if (el.attrs.xmlns === NS_SASL && el.name === 'abort') return saslOutcome(state, { kind: 'failure', condition: 'aborted' }, name);
  if (el.attrs.xmlns === NS_SASL && el.name === 'response' && mech) {
    const payload = decodeSaslPayload(text(el));
    if (payload === 'bad') return saslOutcome(state, { kind: 'failure', condition: 'incorrect-encoding' }, name);
    return saslOutcome(state, mech.step(payload ?? Buffer.alloc(0)), name);
  }
  return closeWith(state, ctx, 'not-authorized');
}

export function step(state: NegotiationState, input: NegotiationInput, ctx: NegotiationCtx): StepResult {
  if (state.phase === 'closed') return { state, effects: [] };
  switch (input.type) {
    case 'open':
      if (state.phase !== 'await-header') return closeWith(state, ctx, 'invalid-xml', 'protocol_error', 'unexpected stream header');
      return onHeader(state, input, ctx);
    case 'parse-error':
      return closeWith(state, ctx, input.condition, 'protocol_error', input.text);
    case 'handshake-timeout':
      if (state.phase === 'bound') return { state, effects: [] };
      return closeWith(state, ctx, 'connection-timeout', 'protocol_error', 'stream negotiation took too long');
    case 'close':
      return { state: { ...state, phase: 'closed', mechanism: null }, effects: [{ kind: 'close', reason: 'client_close', error: null }] };
    case 'bound':
      if (state.phase !== 'binding') return { state, effects: [] };
      return {
        state: { ...state, phase: 'bound' },
        effects: [
          {
            kind: 'send',
            data: serialize(x('iq', { type: 'result', id: input.id }, x('bind', { xmlns: NS_BIND }, x('jid', {}, input.jid)))),
          },
        ],
      };
    case 'resumed':
      if (state.phase !== 'negotiating' || state.user === null) return { state, effects: [] };
      return { state: { ...state, phase: 'bound' }, effects: [] };
    case 'admission':
      if (state.phase !== 'admitting') return { state, effects: [] };
      if (!input.ok) return closeWith(state, ctx, 'policy-violation', 'protocol_error', 'too many connections from your address');
      return openStream(state, state.peer, ctx);
    case 'password-checked': {
      if (state.phase !== 'sasl' || state.verifying === null) return { state, effects: [] };
      const user = state.verifying;
      const done = { ...state, verifying: null };
      // RFC 6120 §6.4.6 success, §6.5.10 not-authorized for a wrong password.
      return saslOutcome(done, input.ok ? { kind: 'success', user, data: null } : failure('not-authorized'), state.mechanism?.name ?? 'PLAIN');
    }
    case 'bind-failed': {
      if (state.phase !== 'binding') return { state, effects: [] };
      const type = input.condition === 'conflict' ? 'cancel' : input.condition === 'resource-constraint' ? 'wait' : 'modify';
      const err = x('iq', { type: 'error', id: input.id }, x('error', { type }, x(input.condition, { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' })));
      return { state: { ...state, phase: 'negotiating' }, effects: [{ kind: 'send', data: serialize(err) }] };
    }
    case 'stanza': {
      const el = input.el;
      switch (state.phase) {
        case 'negotiating':
          return onNegotiating(state, el, ctx);
        case 'sasl':
          return onSasl(state, el, ctx);
        case 'bound':
          if (isNonza(el)) return { state, effects: [{ kind: 'nonza', el }] };
          if (!['message', 'presence', 'iq'].includes(el.name) || (el.attrs.xmlns !== undefined && el.attrs.xmlns !== NS_CLIENT)) {
            return closeWith(state, ctx, 'unsupported-stanza-type');
          }
          return { state, effects: [{ kind: 'stanza', el }] };
        default:
          // binding: the client must wait for the bind result (§7.6.1); await-header cannot get
          // stanzas; admitting is answered before the connection reads on.
          return closeWith(state, ctx, 'not-authorized');
      }
    }
  }
}
