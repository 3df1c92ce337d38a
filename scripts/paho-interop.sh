#!/bin/sh
# Run the Eclipse Paho MQTT interoperability suite (github.com/eclipse/paho.mqtt.testing,
# interoperability/client_test.py and client_test5.py) against a `vigil serve` started here, or
# against Debian's mosquitto for comparison. Fetches nothing and copies nothing into the repository:
# give it the path of the suite's interoperability/ directory, e.g. after
#   git clone https://github.com/eclipse/paho.mqtt.testing /tmp/paho.mqtt.testing
#
#   scripts/paho-interop.sh /tmp/paho.mqtt.testing/interoperability [vigil|mosquitto]
#
# The broker gets a temporary directory, a free port and an ACL that denies subscriptions to
# test/nosubscribe (the suite's subscribe-failure test) and max_keepalive 60 (its server keep alive
# test); it is stopped by PID at the end.
# Vigil runs from dist/ (npm run build first). Results: docs/mqtt-interop.md.
set -eu
SUITE=${1:?usage: paho-interop.sh SUITE_DIR [vigil|mosquitto]}
TARGET=${2:-vigil}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d)
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT INT TERM

if [ "$TARGET" = mosquitto ]; then
  # No ACL: Mosquitto cannot deny one topic to anonymous clients beside an allow-all.
  cat >"$TMP/mosquitto.conf" <<CONF
listener $PORT 127.0.0.1
allow_anonymous true
persistence false
CONF
  /usr/sbin/mosquitto -c "$TMP/mosquitto.conf" >"$TMP/broker.log" 2>&1 &
  PID=$!
else
  cat >"$TMP/vigil.yaml" <<CONF
data_dir: $TMP/data
listeners:
  xmpp: { host: 127.0.0.1, port: 0 }
  mqtt: { host: 127.0.0.1, port: $PORT }
  http: { host: 127.0.0.1, port: 0 }
hosts:
  localhost:
    mqtt:
      allow_anonymous: true
      max_connection_rate_per_ip: 0
      max_keepalive: 60          # test_server_keep_alive asks 120 and expects Server Keep Alive 60
      acl:
        - { permission: deny, action: subscribe, topic: test/nosubscribe }
CONF
  node "$ROOT/bin/vigil.js" serve --config "$TMP/vigil.yaml" >"$TMP/broker.log" 2>&1 &
  PID=$!
fi
/usr/bin/python3 - "$PORT" <<'PY'
import socket, sys, time
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close(); break
    except OSError:
        time.sleep(0.1)
PY
cd "$SUITE"
echo "== $TARGET: client_test.py (MQTT 3.1.1)"
# client_test.py hands its own options on to unittest.main(), which refuses them: run it with
# unittest.main() given only the program name.
/usr/bin/python3 -c '
import runpy, sys, unittest
main = unittest.main
unittest.main = lambda: main(argv=sys.argv[:1])
sys.argv = ["client_test.py", "-p", sys.argv[1]]
runpy.run_path("client_test.py", run_name="__main__")' "$PORT" 2>&1 | grep -E '^(Ran|OK|FAILED|FAIL:|ERROR:)|^(FAIL|ERROR): ' || true
echo "== $TARGET: client_test5.py (MQTT 5.0)"
/usr/bin/python3 client_test5.py -p "$PORT" 2>&1 | grep -E '^(Ran|OK|FAILED|FAIL:|ERROR:)|^(FAIL|ERROR): ' || true
