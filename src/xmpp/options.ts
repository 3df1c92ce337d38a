/** Typed views of the per host options the XMPP adapter reads. */
import type { Infer } from '../config/dsl.js';
import type { xmppSchema } from '../config/schema/xmpp.js';

export type XmppHostOptions = Infer<typeof xmppSchema>;
