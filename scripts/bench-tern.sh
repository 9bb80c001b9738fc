#!/bin/bash
# Runs ternd for a side-by-side XMPP load test: a generated configuration
# in a temporary directory, the domain bench.test on 127.0.0.1 only, TLS
# offered but not required, users u1..uN with password benchpass.
#
# usage: scripts/bench-tern.sh start|stop|users N|run|report DIR
#
#   start    build ternd and ternctl, write the configuration, start ternd
#            pinned to SERVER_CPU and wait until it listens
#   stop     stop the ternd started by "start" (by its PID) and wait
#   users N  create u1..uN with "ternctl user add -f"
#   run      the full sequence with the load generator's bench.sh, like
#            the reference servers' run: -mode all, -mode msg, a SCRAM
#            login run, and a PLAIN login run over STARTTLS
#   report DIR  print the figures docs/benchmarks.md compares, from the
#            JSON results in DIR, for the labels tern, prosody and
#            ejabberd and their -msg, -scram and -tls runs
#
# Environment:
#   XMPPBENCH   directory of the load harness (bench.sh); needed by "run"
#   BENCH_PORT  c2s port on 127.0.0.1 (default 15322)
#   SERVER_CPU  CPU list ternd is pinned to (default 0)
#   STATE       directory for the configuration, data, logs and PID file
#               (default /tmp/tern-bench)
#   TERN_BIN    directory with prebuilt ternd and ternctl (default: build
#               them from this checkout into $STATE/bin)
#   N, PAIRS, RATES, STEP, SCRAM_N, RESULTS   passed to bench.sh as in
#               the reference run (N default 10000, SCRAM_N 5000)
#   TLS_RUN     1 (default) adds the STARTTLS login run
#
# ternd offers SASL PLAIN only inside TLS, so the plain-TCP runs log in
# with SCRAM-SHA-1 and the STARTTLS run with PLAIN. Like the reference
# servers, ternd stores only SCRAM-SHA-1 keys (auth.scram_hashes).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE=${STATE:-/tmp/tern-bench}
PORT=${BENCH_PORT:-15322}
CPU=${SERVER_CPU:-0}
PIDFILE=$STATE/ternd.pid
CONFIG=$STATE/tern.toml

binaries() {
	if [ -n "${TERN_BIN:-}" ]; then
		BIN=$TERN_BIN
		return
	fi
	BIN=$STATE/bin
	mkdir -p "$BIN"
	(cd "$ROOT" && go build -o "$BIN/ternd" ./cmd/ternd && go build -o "$BIN/ternctl" ./cmd/ternctl)
}

# section prints a TOML table only when this checkout's configuration
# knows it, so the script works on versions without that feature.
section() {
	grep -q "^\[$1\]" "$ROOT/config.toml.example" || return 0
	printf '[%s]\n%s\n\n' "$1" "$2"
}

write_config() {
	mkdir -p "$STATE/data"
	cat >"$CONFIG" <<EOF
[server]
domains = ["bench.test"]
data_dir = "$STATE/data"
log_level = "warn"

[tls]
required = false

[c2s]
listen = ["127.0.0.1:$PORT"]
direct_tls_listen = []

[auth]
max_failures_per_ip = 0
max_failures_per_account = 0
$(grep -q '^# *scram_hashes\|^scram_hashes' "$ROOT/config.toml.example" && echo 'scram_hashes = ["SHA-1"]')

$(section archive 'enabled = false')
[s2s]
enabled = false
listen = []

$(section component 'listen = ""')
[http]
listen = ""
EOF
}

listening() { ss -ltn | grep -q "127.0.0.1:$PORT "; }

start() {
	binaries
	if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
		echo "ternd already running with PID $(cat "$PIDFILE")" >&2
		exit 1
	fi
	if listening; then
		echo "port $PORT is in use; set BENCH_PORT" >&2
		exit 1
	fi
	write_config
	ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
	taskset -c "$CPU" "$BIN/ternd" -config "$CONFIG" >>"$STATE/ternd.log" 2>&1 </dev/null &
	echo $! >"$PIDFILE"
	for _ in $(seq 200); do
		listening && break
		kill -0 "$(cat "$PIDFILE")" 2>/dev/null || { echo "ternd exited; see $STATE/ternd.log" >&2; exit 1; }
		sleep 0.1
	done
	listening || { echo "ternd does not listen on 127.0.0.1:$PORT" >&2; exit 1; }
	echo "ternd PID $(cat "$PIDFILE") on CPU $CPU, 127.0.0.1:$PORT, state in $STATE"
}

stop() {
	[ -f "$PIDFILE" ] || return 0
	local pid
	pid=$(cat "$PIDFILE")
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 300); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "ternd PID $pid did not stop within 30 s" >&2
		return 1
	fi
	rm -f "$PIDFILE"
}

users() {
	local n=$1 list=$STATE/users.txt
	binaries
	write_config
	seq 1 "$n" | awk '{print "u" $1 "@bench.test benchpass"}' >"$list"
	"$BIN/ternctl" -config "$CONFIG" user add -f "$list"
}

# restart starts ternd on a fresh data directory with N users.
restart() {
	stop
	rm -rf "$STATE/data"
	users "$N"
	start
	sleep 2
}

run() {
	: "${XMPPBENCH:?set XMPPBENCH to the directory of the load harness}"
	export N=${N:-10000}
	local bench=$XMPPBENCH/bench.sh addr=127.0.0.1:$PORT
	trap stop EXIT
	restart
	MECH=SCRAM-SHA-1 "$bench" tern "$addr" bench.test "$PIDFILE" -mode all
	restart
	MECH=SCRAM-SHA-1 "$bench" tern-msg "$addr" bench.test "$PIDFILE" -mode msg
	restart
	MECH=SCRAM-SHA-1 N=${SCRAM_N:-5000} "$bench" tern-scram "$addr" bench.test "$PIDFILE" -mode login
	if [ "${TLS_RUN:-1}" = 1 ]; then
		restart
		MECH=PLAIN "$bench" tern-tls "$addr" bench.test "$PIDFILE" -mode login -starttls
	fi
	stop
	trap - EXIT
}

report() {
	python3 - "$1" <<'EOF'
import json, sys, glob, os
runs = {}
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    d = json.load(open(f))
    runs[d["Label"]] = d  # the latest run of each label wins (sorted by time)

def step(d, rate):
    for s in (d.get("Msg") or {}).get("Steps") or []:
        if s["OfferedPerS"] == rate:
            return s
    return None

def sustained(d):
    steps = (d.get("Msg") or {}).get("Steps") or []
    best = None
    for s in steps:
        if not s["Pass"]:
            break
        best = s
    return best

print("| server | CPU µs/msg @2000/s, @6000/s (1000 online) | max msgs/s p99<100ms (gen CPU there) | p99 ms @1000/s, 10000 online | KiB/session plain | KiB/session STARTTLS | CPU ms per SCRAM login | PLAIN logins/s plain / STARTTLS | lost msgs, failed logins |")
print("|---|---|---|---|---|---|---|---|---|")
for srv in ("tern", "prosody", "ejabberd"):
    a, m, sc, tl = (runs.get(srv + x) for x in ("", "-msg", "-scram", "-tls"))
    cells = [srv]
    per = []
    for rate in (2000, 6000):
        st = step(m, rate) if m else None
        per.append("%.0f" % (st["ServerCPUPct"] / 100 / st["AchievedPerS"] * 1e6) if st and st["AchievedPerS"] else "-")
    cells.append(", ".join(per))
    b = sustained(m) if m else None
    cells.append("%d (%.0f%%)" % (b["OfferedPerS"], b["GenCPUPct"]) if b else "-")
    s1 = step(a, 1000) if a else None
    cells.append("%.1f" % s1["LatencyMs"]["P99"] if s1 else "-")
    cells.append("%.1f" % a["Login"]["KiBPerSession"] if a and a.get("Login") else "-")
    cells.append("%.1f" % tl["Login"]["KiBPerSession"] if tl and tl.get("Login") else "-")
    cells.append("%.2f" % (sc["Login"]["ServerCPUS"] / sc["Login"]["OK"] * 1000) if sc and sc.get("Login") else "-")
    plain = "%.0f" % a["Login"]["LoginsPerS"] if a and a.get("Login") and a["Mech"] == "PLAIN" else "(%s)" % a["Mech"] if a else "-"
    tls = "%.0f" % tl["Login"]["LoginsPerS"] if tl and tl.get("Login") else "-"
    cells.append(plain + " / " + tls)
    lost = sum(s["Lost"] for d in (a, m) if d for s in (d.get("Msg") or {}).get("Steps") or [])
    failed = sum(d["Login"]["Failed"] for d in (a, m, sc, tl) if d and d.get("Login"))
    cells.append("%d, %d" % (lost, failed))
    print("| " + " | ".join(cells) + " |")
EOF
}

case ${1:-} in
start) start ;;
stop) stop ;;
users) users "${2:?usage: bench-tern.sh users N}" ;;
run) run ;;
report) report "${2:?usage: bench-tern.sh report DIR}" ;;
*)
	sed -n '2,33p' "$0" >&2
	exit 2
	;;
esac
