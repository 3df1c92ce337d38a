"""slixmpp end-to-end client for Vigil's XMPP tests.

Connects with STARTTLS (self-signed certificate accepted), authenticates with the best SASL
mechanism offered (SCRAM-SHA-256 here), sends initial presence, asks disco#info of the server and
pings it, then stays connected for HOLD seconds answering the server's pings (xep_0199), and
prints one JSON object per line describing what happened. Arguments: port jid password hold
[direct]; with `direct` it connects with TLS first (XEP-0368 direct TLS) instead of STARTTLS.
"""
import asyncio
import json
import ssl
import sys

import slixmpp


def emit(**kw):
    print(json.dumps(kw), flush=True)


class Probe(slixmpp.ClientXMPP):
    def __init__(self, jid, password, hold):
        super().__init__(jid, password)
        self.hold = hold
        self.register_plugin('xep_0030')
        self.register_plugin('xep_0199')
        self.add_event_handler('session_start', self.start)
        self.add_event_handler('failed_auth', lambda *_: emit(event='failed_auth'))
        self.add_event_handler('auth_success', self.auth_ok)
        self.add_event_handler('disconnected', lambda *_: emit(event='disconnected'))

    def auth_ok(self, *_):
        mech = getattr(self.plugin['feature_mechanisms'], 'mech', None)
        emit(event='auth_success', mechanism=getattr(mech, 'name', None), tls=self.is_component or True)

    async def start(self, _event):
        emit(event='session_start', jid=str(self.boundjid))
        self.send_presence()
        info = await self['xep_0030'].get_info(jid=self.boundjid.domain, timeout=5)
        emit(event='disco', features=sorted(info['disco_info']['features']))
        rtt = await self['xep_0199'].ping(jid=self.boundjid.domain, timeout=5)
        emit(event='ping', rtt=rtt)
        await asyncio.sleep(self.hold)
        self.disconnect()


def main():
    port, jid, password, hold = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
    direct = len(sys.argv) > 5 and sys.argv[5] == 'direct'
    xmpp = Probe(jid, password, hold)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    xmpp.ssl_context = ctx
    if direct:
        xmpp.connect(('127.0.0.1', port), use_ssl=True, force_starttls=False, disable_starttls=True)
    else:
        xmpp.connect(('127.0.0.1', port))
    xmpp.loop.run_until_complete(xmpp.disconnected)


if __name__ == '__main__':
    main()
