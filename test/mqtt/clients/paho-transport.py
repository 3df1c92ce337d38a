"""Debian's python3-paho-mqtt (1.6) against Vigil over WebSocket or TLS, for the transport tests.

Arguments: mode (ws | tls) port client_id, then for ws the path, for tls cafile certfile keyfile.
Connects, subscribes to paho/<client_id>, publishes one message there, waits for it to come back,
disconnects, and prints one JSON object per line (connack rc, the message, errors).
"""
import json
import sys
import threading

import paho.mqtt.client as mqtt


def emit(**kw):
    print(json.dumps(kw), flush=True)


def main():
    mode, port, client_id = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    c = mqtt.Client(client_id=client_id, transport='websockets' if mode == 'ws' else 'tcp')
    if mode == 'ws':
        c.ws_set_options(path=sys.argv[4])
    else:
        c.tls_set(ca_certs=sys.argv[4], certfile=sys.argv[5], keyfile=sys.argv[6])
    topic = 'paho/' + client_id
    done = threading.Event()

    def on_connect(client, _userdata, _flags, rc):
        emit(event='connack', rc=rc)
        if rc == 0:
            client.subscribe(topic, qos=1)

    def on_subscribe(client, _userdata, _mid, granted):
        emit(event='suback', granted=list(granted))
        client.publish(topic, 'hello from paho over ' + mode, qos=1)

    def on_message(_client, _userdata, msg):
        emit(event='message', topic=msg.topic, payload=msg.payload.decode(), qos=msg.qos)
        done.set()

    c.on_connect = on_connect
    c.on_subscribe = on_subscribe
    c.on_message = on_message
    c.connect('127.0.0.1', port, keepalive=30)
    c.loop_start()
    ok = done.wait(10)
    c.disconnect()
    c.loop_stop()
    emit(event='done', ok=ok)


if __name__ == '__main__':
    main()
