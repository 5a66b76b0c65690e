# Start, watch and stop pmbmpd / pmbgpd (pmacct 1.7.7) for the end-to-end tests
# (sourced by tests/e2e/test_pmbmpd.sh and test_pmbgpd.sh, after tests/lib.sh).
#
# What these daemons need (see DESIGN.md, "Real collectors in tests"):
# - they ignore SIGTERM: stop them with SIGINT;
# - they bind with SO_REUSEPORT, so a port another pmacct daemon already listens on
#   is taken without any error and the connections are shared between the two: after
#   start-up we check that this daemon is the only listener on its address and port;
# - their listen backlog is 1;
# - they log "connection reset by peer" for an orderly FIN as well.

PM_PID="" PM_NAME="" PM_PORT=""

pm_cleanup() {
	[ -n "$PM_PID" ] || return 0
	kill -INT "$PM_PID" 2>/dev/null || return 0
	for _ in $(seq 1 30); do kill -0 "$PM_PID" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$PM_PID" 2>/dev/null || true
}
cleanup_hooks+=(pm_cleanup)


# pm_died WHAT: a dead or broken collector is reported as such, never as a wrong decode.
pm_died() {
	echo "--- last lines of $WORK/$PM_NAME.log:" >&2
	tr -d '\0' <"$WORK/$PM_NAME.log" | grep -av "^INFO ( default/core ):  '--build" | tail -n 15 >&2 || true
	fail "$PM_NAME: $1 (the collector crashed or quit: no decode result to compare)"
}

pm_alive() { kill -0 "$PM_PID" 2>/dev/null || pm_died "${1:-is gone}"; }

# Listeners on ADDR:PORT right now.
pm_listeners() { ss -Hltn "sport = :$2" 2>/dev/null | awk -v a="$1:$2" '$4 == a || $4 == "[" a "]"' | wc -l; }

# pm_start NAME BINARY KIND ADDR CONF_LINES_FILE: runs BINARY (pmbmpd|pmbgpd) on ADDR and a
# free port (PM_PORT) with the settings of CONF_LINES_FILE plus daemonize off, debug on
# and ${KIND}_daemon_ip/port (KIND: bmp|bgp).  Logs to $WORK/NAME.log.
pm_start() {
	local name=$1 bin=$2 kind=$3 addr=$4 conf=$5 attempt upper
	upper=$(echo "$kind" | tr a-z A-Z)
	PM_NAME=$name
	for attempt in 1 2 3; do
		PM_PORT=$(free_port tcp "$addr")
		{
			cat "$conf"
			echo "daemonize: false"
			echo "debug: true"
			echo "${kind}_daemon_ip: $addr"
			echo "${kind}_daemon_port: $PM_PORT"
		} >"$WORK/$name.conf"
		"$bin" -f "$WORK/$name.conf" >"$WORK/$name.log" 2>&1 &
		PM_PID=$!
		for _ in $(seq 1 100); do
			grep -aq "waiting for $upper data on" "$WORK/$name.log" && break
			kill -0 "$PM_PID" 2>/dev/null || break
			sleep 0.05
		done
		pm_alive "exited at start-up"
		grep -aq "waiting for $upper data on" "$WORK/$name.log" || pm_died "was not listening after 5 s"
		# SO_REUSEPORT: binding a port someone took meanwhile does not fail; it shares it.
		[ "$(pm_listeners "$addr" "$PM_PORT")" -eq 1 ] && return 0
		note "$name: port $PM_PORT is shared with another listener (attempt $attempt), retrying"
		kill -INT "$PM_PID"; wait "$PM_PID" 2>/dev/null || true; PM_PID=""
	done
	fail "$name: no port of its own found for $bin after 3 attempts"
}

# pm_wait_closes MSGLOG KEY WHAT ADDR...: wait (at most 20 s) until the msglog shows one
# closed session (event log_close) per ADDR; KEY is the msglog's field naming the sender
# (bmp_router | peer_ip_src).  The collector must stay up meanwhile.
pm_wait_closes() {
	local log=$1 key=$2 what=$3; shift 3
	local got=0 want=$#
	for _ in $(seq 1 200); do
		pm_alive "is gone while $what"
		if [ -s "$log" ]; then
			got=$(tr -d '\0' <"$log" | python3 -c 'import json, sys
key, want = sys.argv[1], set(sys.argv[2:])
n = 0
for l in sys.stdin:
    try: d = json.loads(l)
    except ValueError: continue
    n += d.get("event_type") == "log_close" and d.get(key) in want
print(n)' "$key" "$@")
			[ "$got" -lt "$want" ] || return 0
		fi
		sleep 0.1
	done
	fail "$PM_NAME: $got of $want sessions closed in its msglog within 20 s of $what"
}

# pm_stop: SIGINT (SIGTERM is ignored); a collector that does not exit cleanly fails the test.
pm_stop() {
	local rc=0
	pm_alive "is gone before it was stopped"
	kill -INT "$PM_PID"
	for _ in $(seq 1 100); do
		kill -0 "$PM_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$PM_PID" 2>/dev/null; then
		kill -KILL "$PM_PID"
		pm_died "did not exit within 10 s of SIGINT"
	fi
	wait "$PM_PID" || rc=$?
	PM_PID=""
	[ $rc -eq 0 ] || pm_died "exited with $rc on SIGINT"
}
