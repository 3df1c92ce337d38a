"""slixmpp (Debian python3-slixmpp) with its XEP-0198 plugin, for Vigil's stream management test.

Connects with STARTTLS (self-signed certificate accepted), enables stream management with
resumption (xep_0198 does it after binding), sends initial presence, prints every message body
it gets, and follows commands from stdin, one per line:
  drop       abort the TCP connection without closing the stream (a network loss)
  reconnect  connect again: the plugin resumes the former stream (XEP-0198 section 5)
  quit       close the stream and exit
It prints one JSON object per line describing what happened. Arguments: port jid password.
"""
import asyncio
import json
import logging
import os
import ssl
import sys

import slixmpp


def emit(**kw):
    print(json.dumps(kw), flush=True)


class Phone(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.register_plugin('xep_0198')
        # Ask for an ack after every stanza sent (the default window is 5).
        self['xep_0198'].window = 1
        self.add_event_handler('session_start', self.start)
        self.add_event_handler('sm_enabled', lambda s: emit(event='sm_enabled', id=s['id'], resume=s['resume']))
        self.add_event_handler('session_resumed', lambda _s: emit(event='resumed', handled=self['xep_0198'].handled))
        self.add_event_handler('sm_failed', lambda _s: emit(event='sm_failed'))
        self.add_event_handler('message', lambda m: emit(event='message', body=m['body'], id=m['id']))
        self.add_event_handler('disconnected', lambda _e: emit(event='disconnected'))

    async def start(self, _event):
        self.send_presence()
        emit(event='session_start', jid=str(self.boundjid))


async def commands(xmpp, address):
    loop = asyncio.get_running_loop()
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if line == 'drop':
            xmpp.abort()
        elif line == 'reconnect':
            xmpp.connect(address)
        elif line in ('quit', ''):
            await xmpp.disconnect()
            emit(event='quit')
            return


def main():
    if os.environ.get('SLIX_DEBUG'):
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    port, jid, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    xmpp = Phone(jid, password)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    xmpp.ssl_context = ctx
    address = ('127.0.0.1', port)
    xmpp.connect(address)
    xmpp.loop.run_until_complete(commands(xmpp, address))


if __name__ == '__main__':
    main()
