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
# test/nosubscribe (the suite's subscribe-failure test), for the 5.0 suite also max_keepalive 60 (its
# server keep alive test); a fresh broker per suite, stopped by PID.
# Vigil runs from dist/ (npm run build first). Results: docs/mqtt-interop.md.
set -eu
SUITE=${1:?usage: paho-interop.sh SUITE_DIR [vigil|mosquitto]}
TARGET=${2:-vigil}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT INT TERM

# start_broker EXTRA: a fresh broker on a free port; EXTRA is one more `mqtt:` line for Vigil.
start_broker() {
  PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
  rm -rf "$TMP/data"
  if [ "$TARGET" = mosquitto ]; then
    # No ACL: Mosquitto cannot deny one topic to anonymous clients beside an allow-all.
    printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$PORT" >"$TMP/mosquitto.conf"
    /usr/sbin/mosquitto -c "$TMP/mosquitto.conf" >>"$TMP/broker.log" 2>&1 &
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
      $1
      acl:
        - { permission: deny, action: subscribe, topic: test/nosubscribe }
CONF
    node "$ROOT/bin/vigil.js" serve --config "$TMP/vigil.yaml" >>"$TMP/broker.log" 2>&1 &
  fi
  PID=$!
  /usr/bin/python3 - "$PORT" <<'PY'
import socket, sys, time
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close(); break
    except OSError:
        time.sleep(0.1)
PY
}
stop_broker() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=; }

cd "$SUITE"
# One test per run, each bounded (a broker that never sends an expected DISCONNECT leaves a test
# looping forever): prints "name: ok | FAIL | ERROR | timeout" and "passed X/Y".
run_suite() {
  file=$1
  passed=0
  total=0
  for t in $(grep -o '^    def test[A-Za-z0-9_]*' "$file" | sed 's/^    def //'); do
    total=$((total + 1))
    if [ "$file" = client_test.py ]; then
      # client_test.py hands its own options to unittest.main(), which refuses them.
      set -- /usr/bin/python3 -c '
import runpy, sys, unittest
main, port, test = unittest.main, sys.argv[1], sys.argv[2]
unittest.main = lambda: main(argv=["client_test.py", test])
sys.argv = ["client_test.py", "-p", port]
runpy.run_path("client_test.py", run_name="__main__")' "$PORT" "Test.$t"
    else
      set -- /usr/bin/python3 "$file" -p "$PORT" "Test.$t"
    fi
    out=$(timeout 90 "$@" 2>&1) && rc=0 || rc=$?
    if [ $rc -eq 124 ]; then r=timeout
    elif echo "$out" | grep -q '^OK'; then r=ok; passed=$((passed + 1))
    elif echo "$out" | grep -q '^FAIL:'; then r=FAIL
    else r=ERROR; fi
    echo "  $t: $r"
  done
  echo "passed $passed/$total"
}
echo "== $TARGET: client_test.py (MQTT 3.1.1)"
start_broker ""
run_suite client_test.py
stop_broker
echo "== $TARGET: client_test5.py (MQTT 5.0)"
# test_server_keep_alive asks 120 and expects Server Keep Alive 60. Not for 3.1.1: a Keep Alive of 0
# (the 3.1.1 suite's) is refused under a max_keepalive, as Mosquitto does.
start_broker "max_keepalive: 60"
run_suite client_test5.py
stop_broker
