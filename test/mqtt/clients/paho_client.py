#!/usr/bin/python3
"""Debian's python3-paho-mqtt (1.6.1) against a Vigil listener, for test/mqtt/paho.e2e.test.ts.

Usage: paho_client.py PORT MODE
  roundtrip5 / roundtrip311  QoS 0, 1 and 2 published and received on one protocol version
  will                       a v5 will with properties (Content Type, User Property, Message Expiry,
                             Will Delay 30 s with Session Expiry 0), its socket cut: the will must come
                             at once [MQTT-3.1.3-9] and carry no Will Delay Interval
  shared                     three workers (two v5, one 3.1.1) in $share/workers/jobs/#, 30 QoS 1 jobs
Prints one JSON object per line; exits 1 on a timeout.
"""
import json
import sys
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

PORT = int(sys.argv[1])
MODE = sys.argv[2]


def out(**kw):
    print(json.dumps(kw), flush=True)


def client(cid, v5=True):
    c = mqtt.Client(client_id=cid, protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311)
    return c


def connect(c, v5=True, **kw):
    done = threading.Event()
    c.on_connect = lambda *a: done.set()
    if v5:
        c.connect('127.0.0.1', PORT, keepalive=30, clean_start=True, **kw)
    else:
        c.connect('127.0.0.1', PORT, keepalive=30)
    c.loop_start()
    if not done.wait(5):
        out(error='no CONNACK')
        sys.exit(1)


def subscribe(c, topic, qos):
    done = threading.Event()
    c.on_subscribe = lambda *a: done.set()
    c.subscribe(topic, qos)
    if not done.wait(5):
        out(error='no SUBACK')
        sys.exit(1)


def wait_for(cond, secs=10):
    end = time.time() + secs
    while not cond():
        if time.time() > end:
            return False
        time.sleep(0.01)
    return True


def roundtrip(v5):
    got = []
    sub = client('paho-sub', v5)
    sub.on_message = lambda c, u, m: got.append((m.topic, m.payload.decode(), m.qos))
    connect(sub, v5)
    subscribe(sub, 'paho/rt/#', 2)
    pub = client('paho-pub', v5)
    connect(pub, v5)
    for qos in (0, 1, 2):
        info = pub.publish('paho/rt/%d' % qos, 'q%d' % qos, qos=qos)
        info.wait_for_publish(5)
        out(event='published', qos=qos, complete=info.is_published())
    ok = wait_for(lambda: len(got) >= 3)
    out(event='received', messages=sorted(got, key=lambda g: g[2]), complete=ok)
    pub.disconnect()
    sub.disconnect()


def will():
    got = []
    sub = client('paho-will-watcher')
    sub.on_message = lambda c, u, m: got.append(m)
    connect(sub)
    subscribe(sub, 'paho/will', 1)
    victim = client('paho-victim')
    wp = Properties(PacketTypes.WILLMESSAGE)
    wp.ContentType = 'text/plain'
    wp.UserProperty = ('origin', 'paho')
    wp.MessageExpiryInterval = 600
    wp.WillDelayInterval = 30
    victim.will_set('paho/will', 'gone', qos=1, properties=wp)
    cp = Properties(PacketTypes.CONNECT)
    cp.SessionExpiryInterval = 0
    connect(victim, properties=cp)
    victim.loop_stop()
    victim.socket().close()  # no DISCONNECT: the will is due
    ok = wait_for(lambda: len(got) >= 1)
    m = got[0] if got else None
    props = m.properties.json() if m is not None and m.properties is not None else {}
    out(event='will', received=ok, payload=m.payload.decode() if m else None, properties=props)
    sub.disconnect()


def shared():
    counts = {}
    workers = []
    for i, v5 in enumerate((True, False, True)):
        cid = 'paho-worker-%d' % i
        counts[cid] = 0
        w = client(cid, v5)

        def on_message(c, u, m, cid=cid):
            counts[cid] += 1
        w.on_message = on_message
        connect(w, v5)
        subscribe(w, '$share/workers/jobs/#', 1)
        workers.append(w)
    pub = client('paho-boss')
    connect(pub)
    for i in range(30):
        pub.publish('jobs/%d' % i, 'job%d' % i, qos=1).wait_for_publish(5)
    ok = wait_for(lambda: sum(counts.values()) >= 30)
    time.sleep(0.2)  # a duplicate delivery would show now
    out(event='shared', complete=ok, counts=counts)
    for c in workers + [pub]:
        c.disconnect()


{'roundtrip5': lambda: roundtrip(True), 'roundtrip311': lambda: roundtrip(False), 'will': will, 'shared': shared}[MODE]()
