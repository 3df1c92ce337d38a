/**
 * What a XEP-0198 or XEP-0352 nonza from the client means, pure: `(element, counters, settings)
 * -> effects`. The connection carries the effects out (connection-sm.ts).
 *
 * Before resource binding (authenticated):                                   [XEP-0198 §3, §5]
 *   <resume previd h/>  -> resume (the connection looks the session up)
 *   <enable/>, <r/>, <a/> -> <failed><unexpected-request/></failed>; CSI nonzas are ignored
 * After binding:
 *   <enable [resume] [max]/> -> enable (resumption time: `max` capped at max_resume_timeout, else
 *                               resume_timeout; 0 when resume is not asked or resume_timeout is 0)
 *                               a second one, or stream_management off -> <failed/>   [§3]
 *   <r/> -> <a h/> with the stanzas handled so far                                      [§4]
 *   <a h/> -> acked(count), or, when h acknowledges more than was sent, the stream error
 *             undefined-condition with <handled-count-too-high/>                       [§6]
 *   <active/>, <inactive/> -> csi                                        [XEP-0352 §4.2]
 * Stream management errors are recoverable (§6): a bad nonza gets <failed/>, not a stream error,
 * except an over-acknowledgement. Other elements in the CSI namespace are ignored (§4.2: no reply).
 */
import type { StreamMgmtSettings } from '../../host-settings.js';
import type { XmlEl } from '../xml.js';
import { NS_CSI, NS_SM, aXml, ackedSince, failedXml, parseH } from './protocol.js';

/** The counters of an enabled session (sm-state.ts). */
export interface SmCounters {
  /** Stanzas handled from the client (the `h` we report). */
  readonly inH: number;
  /** Stanzas sent to the client. */
  readonly outN: number;
  /** The client's last `h`. */
  readonly ackedH: number;
  /** Stanzas sent and not acknowledged. */
  readonly queued: number;
}

export type NonzaEffect =
  | { kind: 'send'; xml: string }
  /** Turn stream management on; resumable for `resumeS` seconds when > 0. */
  | { kind: 'enable'; resumeS: number }
  /** The client handled `count` more stanzas, up to `h`. */
  | { kind: 'acked'; h: number; count: number }
  | { kind: 'csi'; active: boolean }
  /** §6: the client acknowledged more than it was sent. */
  | { kind: 'too-high'; h: number; sent: number };

export type UnboundNonza = { kind: 'resume'; previd: string; h: number } | { kind: 'send'; xml: string } | { kind: 'ignore' };

export const isNonza = (el: XmlEl): boolean => el.attrs.xmlns === NS_SM || el.attrs.xmlns === NS_CSI;

const send = (xml: string): NonzaEffect[] => [{ kind: 'send', xml }];

/** The resumption time for an <enable/>: 0 = none (§5: resume='true' or '1' asks for it). */
export function resumeSeconds(el: XmlEl, set: StreamMgmtSettings): number {
  const asked = el.attrs.resume === 'true' || el.attrs.resume === '1';
  if (!asked || set.resume_timeout === 0) return 0;
  const max = /^\d{1,9}$/.test(el.attrs.max ?? '') ? Number(el.attrs.max) : 0;
  // ejabberd: max_resume_timeout never below resume_timeout; a larger `max` is capped (ejabberd falls back to resume_timeout).
  const ceiling = Math.max(set.max_resume_timeout, set.resume_timeout);
  return max > 0 ? Math.min(max, ceiling) : set.resume_timeout;
}

/** A nonza on a bound stream. */
export function boundNonza(el: XmlEl, sm: SmCounters | null, set: StreamMgmtSettings): NonzaEffect[] {
  if (el.attrs.xmlns === NS_CSI) {
    if (el.name === 'active' || el.name === 'inactive') return [{ kind: 'csi', active: el.name === 'active' }];
    return [];
  }
  switch (el.name) {
    case 'enable':
      if (sm !== null) return send(failedXml('unexpected-request', null, 'stream management is already enabled'));
      if (!set.stream_management) return send(failedXml('feature-not-implemented'));
      return [{ kind: 'enable', resumeS: resumeSeconds(el, set) }];
    case 'resume':
      return send(failedXml('unexpected-request', null, 'a resource is bound already'));
    case 'r':
      if (sm === null) return send(failedXml('unexpected-request', null, 'stream management is not enabled'));
      return send(aXml(sm.inH));
    case 'a': {
      if (sm === null) return send(failedXml('unexpected-request', null, 'stream management is not enabled'));
      const h = parseH(el.attrs.h);
      if (h === null) return send(failedXml('bad-request', null, "'h' must be an unsignedInt"));
      const count = ackedSince(h, sm.ackedH);
      if (count > sm.queued) return [{ kind: 'too-high', h, sent: sm.outN }];
      return [{ kind: 'acked', h, count }];
    }
    default:
      return send(failedXml('bad-request', null, `unexpected ${el.name}`));
  }
}

/** A nonza after authentication, before binding (XEP-0198 §3: enable only after binding; §5 resume instead of binding). */
export function unboundNonza(el: XmlEl, smOffered: boolean): UnboundNonza {
  if (el.attrs.xmlns === NS_CSI) return { kind: 'ignore' };
  if (el.name !== 'resume') return { kind: 'send', xml: failedXml('unexpected-request', null, 'bind a resource first') };
  if (!smOffered) return { kind: 'send', xml: failedXml('feature-not-implemented') };
  const h = parseH(el.attrs.h);
  const previd = el.attrs.previd;
  // §5: an SM-ID SHOULD NOT be longer than 4000 bytes.
  if (h === null || previd === undefined || previd === '' || previd.length > 4000) return { kind: 'send', xml: failedXml('bad-request') };
  return { kind: 'resume', previd, h };
}
