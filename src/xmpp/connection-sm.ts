/**
 * The connection's hooks for XEP-0198 stream management and XEP-0352 client state indication:
 * carries out what a nonza means (stream-mgmt/nonza.ts decides) and resumes a session on this
 * connection. connection.ts calls these; they reach the connection through `SmHost`.
 *
 * Liveness: every nonza is activity (touch); an <a/> while our <r/> probe is outstanding is its
 * answer (the round trip is recorded); CSI <inactive/> stretches the probe interval
 * (csi_inactive_ping_interval), <active/> restores it.
 *
 * Resumption (§5): the SM-ID is looked up for the authenticated account; unknown or timed out ->
 * <failed h?><item-not-found/></failed> and the client may bind instead; an `h` above what was
 * sent -> stream error undefined-condition (§6) and the session ends; else the session moves
 * here (an old stream still open gets `conflict`), <resumed/> carries the server's `h`, the
 * unacknowledged stanzas follow, then an <r/> (ejabberd), presence is not broadcast again.
 */
import type { DisconnectReason } from '../liveness/types.js';
import type { Meta } from '../presence/types.js';
import type { BoundSession, SessionStream } from './bound-session.js';
import type { ConnectionDeps } from './connection-types.js';
import { boundNonza } from './stream-mgmt/nonza.js';
import { NS_SM, R_XML, ackedSince, enabledXml, failedXml, resumedXml } from './stream-mgmt/protocol.js';
import { SmState } from './stream-mgmt/sm-state.js';
import type { StreamErrorCondition } from './stream-errors.js';
import { type XmlEl, x } from './xml.js';

/** What these hooks need of the connection. */
export interface SmHost extends SessionStream {
  readonly deps: ConnectionDeps;
  /** The authenticated account (`user@host`), once SASL succeeded. */
  readonly account: string | null;
  write(data: string): void;
  close(reason: DisconnectReason, error: StreamErrorCondition | null, text?: string, extra?: XmlEl): void;
  /** The connection's own presence-table fields (address, TLS, SASL mechanism). */
  connMeta(): Meta;
  /** A resumed session is this connection's now: the stream is bound, the handshake timer off. */
  adopt(s: BoundSession): void;
}

/** §6: the client acknowledged more stanzas than it was sent. */
function tooHigh(host: SmHost, h: number, sent: number): void {
  const extra = x('handled-count-too-high', { xmlns: NS_SM, h, 'send-count': sent });
  host.close('protocol_error', 'undefined-condition', `You acknowledged ${h} stanzas, but I only sent you ${sent} so far.`, extra);
}

/** An <a/> arrived: it answers our probe when one is outstanding; ask again if more went out since the request (ejabberd). */
function afterAck(host: SmHost, s: BoundSession, sm: SmState): void {
  if (sm.probing) {
    sm.probing = false;
    s.handle?.answered('pong');
  }
  const askedAt = sm.reqAt;
  sm.reqAt = -1;
  if (askedAt >= 0 && askedAt !== sm.outN && sm.queued > 0) {
    sm.reqAt = sm.outN;
    host.write(R_XML);
  }
}

function announce(s: BoundSession, meta: Meta, deps: ConnectionDeps): void {
  if (s.ref) deps.world.setMeta(s.ref, meta, true);
}

/** A nonza on the bound stream of `s`. */
export function onBoundNonza(host: SmHost, s: BoundSession, el: XmlEl): void {
  const { deps } = host;
  const env = deps.session;
  s.handle?.touch();
  for (const e of boundNonza(el, s.sm, env.settings(s.host))) {
    switch (e.kind) {
      case 'send':
        host.write(e.xml);
        break;
      case 'enable': {
        // §4: both counters start at zero with <enable/> / <enabled/>.
        const id = e.resumeS > 0 ? deps.newSmId() : null;
        s.sm = new SmState(id, e.resumeS);
        if (id !== null) env.resumable.add(id, s);
        host.write(enabledXml(id, e.resumeS));
        s.handle?.setOptions(s.livenessOptions());
        announce(s, { sm_state: id === null ? 'acks' : 'resumption' }, deps);
        break;
      }
      case 'acked':
        s.sm?.acked(e.h, e.count);
        if (s.sm) afterAck(host, s, s.sm);
        break;
      case 'too-high':
        tooHigh(host, e.h, e.sent);
        return;
      case 'csi':
        if (!s.setActive(e.active)) break;
        s.handle?.setOptions(s.livenessOptions());
        announce(s, { csi_state: e.active ? 'active' : 'inactive' }, deps);
        break;
    }
  }
}

/** <resume previd h/> on this authenticated, unbound stream (XEP-0198 §5). */
export function onResume(host: SmHost, previd: string, h: number): void {
  const { deps } = host;
  const env = deps.session;
  const found = env.resumable.lookup(previd, host.account ?? '');
  if (found.kind === 'unknown') {
    env.counters.resumptions.inc({ result: 'failed' });
    deps.logger.info({ event: 'xmpp_resume_failed', account: host.account, timed_out: found.h !== null }, 'xmpp_resume_failed');
    host.write(failedXml('item-not-found', found.h, found.h === null ? 'unknown session' : 'the session timed out'));
    return;
  }
  const s = found.session;
  const sm = s.sm as SmState; // registered sessions have one
  const count = ackedSince(h, sm.ackedH);
  if (count > sm.queued) {
    env.counters.resumptions.inc({ result: 'failed' });
    s.kill('protocol_error');
    return tooHigh(host, h, sm.outN);
  }
  sm.acked(h, count);
  s.attach(host);
  host.adopt(s);
  host.write(resumedXml(previd, sm.inH));
  // §5: everything still unhandled again, in order, then a request (ejabberd).
  for (const el of s.unackedForResend()) host.writeStanza(el, false);
  sm.reqAt = sm.outN;
  host.write(R_XML);
  // XEP-0352 §5.2: the resumed stream is active.
  const wasInactive = s.setActive(true);
  s.handle?.setOptions(s.livenessOptions());
  if (s.ref) deps.world.setMeta(s.ref, { ...host.connMeta(), ...(wasInactive ? { csi_state: 'active' } : {}) }, true);
  env.counters.resumptions.inc({ result: 'resumed' });
  deps.logger.info({ event: 'xmpp_session_resumed', jid: s.jid, h, resent: sm.queued }, 'xmpp_session_resumed');
}
