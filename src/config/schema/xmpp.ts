/** Per host XMPP c2s options. The XMPP issue owns this file. */
import { obj } from '../dsl.js';

export const xmppSchema = obj('XMPP client-to-server options for this host.', {});
