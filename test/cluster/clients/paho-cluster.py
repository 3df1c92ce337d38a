#!/usr/bin/python3
"""Debian's paho-mqtt (1.6.1) across Vigil cluster nodes (test/cluster/mqtt-paho.test.ts).

Usage: paho-cluster.py SUB_PORT PUB_PORT RESUME_PORT
  1. 'paho-mover' (MQTT 3.1.1, clean session 0) subscribes to pq/# at QoS 2 on SUB_PORT; prints
     {"event": "subscribed"} and waits for a line on stdin (the test waits for the routes).
  2. 'paho-pub' on PUB_PORT publishes pq/a 0..29 at QoS i % 3 and pj/a 0..9 at QoS 2 (for an
     mqtt.js subscriber); the mover prints what it receives.
  3. The mover disconnects; paho-pub publishes pq/a q0..q19 at QoS 1 and 2 while it is offline.
  4. The mover connects again on RESUME_PORT (another node) and prints the session present flag
     and what its session kept for it.
Each line on stdout is JSON: {"event": ...}.
"""
import json
import sys
import threading
import time

import paho.mqtt.client as mqtt

sub_port, pub_port, resume_port = (int(a) for a in sys.argv[1:4])


def out(**kv):
    print(json.dumps(kv), flush=True)


def wait(cond, secs, what):
    end = time.time() + secs
    while not cond():
        if time.time() > end:
            out(event="timeout", what=what)
            sys.exit(1)
        time.sleep(0.01)


got = []
lock = threading.Lock()
state = {}


def on_message(_c, _u, m):
    with lock:
        got.append({"topic": m.topic, "payload": m.payload.decode(), "qos": m.qos})


def on_connect(_c, _u, flags, rc):
    state["connack"] = (flags.get("session present", 0), rc)


def mover(port):
    c = mqtt.Client(client_id="paho-mover", clean_session=False, protocol=mqtt.MQTTv311)
    c.on_message = on_message
    c.on_connect = on_connect
    state.pop("connack", None)
    c.connect("127.0.0.1", port, keepalive=30)
    c.loop_start()
    wait(lambda: "connack" in state, 10, "connack")
    return c


sub = mover(sub_port)
subacked = threading.Event()
sub.on_subscribe = lambda *_a: subacked.set()
sub.subscribe("pq/#", qos=2)
if not subacked.wait(10):
    out(event="timeout", what="suback")
    sys.exit(1)
out(event="subscribed")
sys.stdin.readline()

pub = mqtt.Client(client_id="paho-pub", protocol=mqtt.MQTTv311)
pub.connect("127.0.0.1", pub_port, keepalive=30)
pub.loop_start()
for i in range(30):
    pub.publish("pq/a", str(i), qos=i % 3).wait_for_publish()
for i in range(10):
    pub.publish("pj/a", "j%d" % i, qos=2).wait_for_publish()
wait(lambda: len(got) >= 30, 10, "30 messages")
time.sleep(0.2)
with lock:
    out(event="live", got=list(got))
    got.clear()

sub.disconnect()
sub.loop_stop()
time.sleep(0.2)
for i in range(20):
    pub.publish("pq/a", "q%d" % i, qos=1 + i % 2).wait_for_publish()
out(event="published_offline")

sub = mover(resume_port)
out(event="resumed", session_present=state["connack"][0], rc=state["connack"][1])
wait(lambda: len(got) >= 20, 10, "20 queued messages")
time.sleep(0.2)
with lock:
    out(event="queued", got=list(got))
sub.disconnect()
sub.loop_stop()
pub.disconnect()
pub.loop_stop()
