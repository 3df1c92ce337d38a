/**
 * Per host options of XEP-0198 stream management and XEP-0352 client state indication, with
 * ejabberd's names and defaults (mod_stream_mgmt, mod_client_state) and one of Vigil's own
 * (csi_inactive_ping_interval). Declared once here: the file reads them under `hosts.<h>.xmpp`
 * (schema/xmpp.ts) and they are runtime host settings as well (src/host-settings.ts, REST
 * PATCH /v1/hosts/{host}/config); a change applies to sessions from then on (enable, resume,
 * the next probe), never by closing one.
 */
import { bool, int, oneOf } from '../dsl.js';

/** ejabberd's resume_timeout ceiling with mod_push_keepalive (72 h): longer is a zombie session, not a resumable one. */
const MAX_RESUME_S = 259_200;

export const streamMgmtFields = {
  stream_management: bool({
    default: true,
    doc: 'Offer XEP-0198 stream management (acks, resumption) after resource binding; with it a stream-managed session is probed with <r/> instead of an XEP-0199 ping (ejabberd 24.02 and later).',
  }),
  resume_timeout: int({
    default: 300,
    min: 0,
    max: MAX_RESUME_S,
    unit: 's',
    doc: 'How long a session that enabled resumption stays resumable after its connection dropped (liveness state resumable, resumable_until); then it goes offline with reason resume_timeout. 0 = acks only, no resumption.',
  }),
  max_resume_timeout: int({
    default: 0,
    min: 0,
    max: MAX_RESUME_S,
    unit: 's',
    doc: 'Longest resumption time a client may ask for with <enable max=.../> (0 = resume_timeout); a larger request is capped to it. Raise it for mobile clients that ask for an hour (Monal).',
  }),
  ack_timeout: int({
    default: 60,
    min: 1,
    max: 3_600,
    unit: 's',
    doc: 'Seconds a stream-managed session has to answer the server\'s <r/> probe with <a/>; in place of ping_ack_timeout for such sessions (ejabberd). With timeout_action kill the connection is dropped and a resumable session becomes resumable.',
  }),
  max_ack_queue: int({
    default: 5_000,
    min: 1,
    max: 1_000_000,
    unit: 'count',
    doc: 'Stanzas sent to a stream-managed client and not yet acknowledged that the server keeps (to resend on resumption); one more closes the stream with policy-violation and ends the session.',
  }),
  resend_on_timeout: oneOf({
    values: ['false', 'true', 'if_offline'] as const,
    default: 'false',
    booleans: true,
    doc: 'Unacknowledged messages of a session that ends without resumption: false = the sender gets service-unavailable; true = delivered again to the user\'s other available resources (the error when there is none); if_offline = only when the user has no other session left (e.g. the same resource bound anew). Presence is dropped, IQs get service-unavailable (ejabberd).',
  }),
  csi_inactive_ping_interval: int({
    default: 0,
    min: 0,
    max: 86_400,
    unit: 's',
    doc: 'XEP-0352: idle seconds before a client that said <inactive/> is probed (0 = 5 x ping_interval); a probe wakes a sleeping phone\'s radio.',
  }),
  queue_presence: bool({
    default: true,
    doc: 'XEP-0352: while a client is inactive, hold presence updates (available/unavailable) addressed to it, the latest per contact resource; flushed on <active/>, at 100 held, or before any other stanza from that contact (ejabberd mod_client_state). Messages are never held.',
  }),
};
