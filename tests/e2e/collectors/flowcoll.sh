# Start, drain, stop and read nfacctd (pmacct 1.7.7), nfcapd (nfdump 1.7.1) or the
# built-in sink (its dump decoded by flowdump.py) for the end-to-end tests that replay
# flows to them (sourced after tests/lib.sh).
#
# fc_listen NAME KIND ADDR [NFACCTD_CONF_LINE...]   KIND: nfacctd|nfcapd|sink; sets FC_PORT
# fc_drain NAME SENT                                 wait until the collector read SENT datagrams
# fc_stop NAME                                       stop it; its records in $WORK/NAME.json
#                                                    (flowcmp kind in FC_KIND), its log $WORK/NAME.log
# fc_seq_errors NAME                                 sequence errors the collector counted
#
# What these collectors need is in DESIGN.md ("Real collectors in tests"); the same
# handling as tests/e2e/test_nfacctd.sh and test_nfcapd.sh: a dead collector is reported
# as such, never as a wrong decode; a port taken between the probe and the bind is retried.

FC_PID="" FC_PLUGINS="" FC_KIND_RUNNING="" FC_PORT="" FC_KIND=""

fc_cleanup() {
	local p
	# nfacctd ignores SIGTERM (a test that failed with it running left it behind): SIGINT,
	# then SIGKILL if it is still there after 3 s.
	if [ -n "$FC_PID" ] && kill -INT "$FC_PID" 2>/dev/null; then
		for _ in $(seq 1 30); do kill -0 "$FC_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$FC_PID" 2>/dev/null || true
	fi
	# nfacctd's plugin processes outlive a core that crashed or was killed.
	for p in $FC_PLUGINS; do
		grep -q '^nfacctd' "/proc/$p/cmdline" 2>/dev/null && kill -KILL "$p" 2>/dev/null
	done
	return 0
}
cleanup_hooks+=(fc_cleanup)

fc_died() {
	echo "--- last lines of $WORK/$1.log:" >&2
	grep -av "^INFO ( default/core ):  '--build" "$WORK/$1.log" | tail -n 15 >&2 || true
	fail "$1: $FC_KIND_RUNNING $2 (the collector crashed or quit: no decode result to compare)"
}

fc_listen() {
	local name=$1 kind=$2 addr=$3 attempt family=-4 line; shift 3
	FC_KIND_RUNNING=$kind
	case $addr in *:*) family=-6 ;; esac
	if [ "$kind" = sink ]; then
		# The sink binds a port of its own choosing (0) and says which: no race.
		rm -f "$WORK/$name.ready" "$WORK/$name.dump"
		"$TR" sink --listen "$addr" --udp 0 --ready "$WORK/$name.ready" --dump "$WORK/$name.dump" \
			--json >"$WORK/$name.sink.json" 2>"$WORK/$name.log" &
		FC_PID=$!
		for _ in $(seq 1 100); do
			if [ -s "$WORK/$name.ready" ]; then
				FC_PORT=$(ready_port "$WORK/$name.ready" udp)
				return 0
			fi
			kill -0 "$FC_PID" 2>/dev/null || fc_died "$name" "exited at start-up"
			sleep 0.05
		done
		fc_died "$name" "was not listening after 5 s"
	fi
	for attempt in 1 2 3; do
		FC_PORT=$(free_port udp "$addr")
		if [ "$kind" = nfacctd ]; then
			# debug: one line per datagram, which fc_drain counts. The sequence checks
			# ("expecting flow ...") are off unless nfacctd_disable_checks is false.
			{
				cat "$TR_SOURCE_DIR/tests/e2e/collectors/nfacctd-print.conf"
				echo "debug: true"
				echo "nfacctd_disable_checks: false"
				echo "nfacctd_ip: $addr"
				echo "nfacctd_port: $FC_PORT"
				echo "print_output_file[flows]: $WORK/$name.json"
				for line in "$@"; do echo "$line"; done
			} >"$WORK/$name.conf"
			rm -f "$WORK/$name.json"
			nfacctd -f "$WORK/$name.conf" >"$WORK/$name.log" 2>&1 &
		else
			rm -rf "$WORK/$name.d" && mkdir "$WORK/$name.d"
			# -t 86400: one file for the whole run, closed when nfcapd stops.
			nfcapd "$family" -b "$addr" -p "$FC_PORT" -w "$WORK/$name.d" -t 86400 \
				>"$WORK/$name.log" 2>&1 &
		fi
		FC_PID=$!
		for _ in $(seq 1 100); do
			if grep -qs "waiting for NetFlow/IPFIX data on\|^Startup nfcapd" "$WORK/$name.log"; then
				[ "$kind" != nfacctd ] || FC_PLUGINS=$(pgrep -P "$FC_PID" | tr '\n' ' ' || true)
				return 0
			fi
			kill -0 "$FC_PID" 2>/dev/null || break
			sleep 0.05
		done
		kill -0 "$FC_PID" 2>/dev/null && fc_died "$name" "was not listening after 5 s"
		wait "$FC_PID" || true
		FC_PID=""
		grep -qs "bind() to .* failed\|Address already in use" "$WORK/$name.log" ||
			fc_died "$name" "exited at start-up"
		note "$name: port $FC_PORT was taken (attempt $attempt), retrying"
	done
	fail "$name: no free UDP port found for $kind after 3 attempts"
}

# Bytes waiting in the receive queue of the local UDP socket on PORT (-1: no such socket).
fc_udp_rx_queue() {
	local hex total=0 found=0
	for hex in $(awk -v p="$(printf ':%04X' "$1")" \
		'substr($2, length($2) - 4) == p { split($5, q, ":"); print q[2] }' /proc/net/udp /proc/net/udp6); do
		total=$((total + 16#$hex)) found=1
	done
	[ $found -eq 1 ] && echo "$total" || echo -1
}

# Datagrams the kernel dropped at the local UDP socket on PORT (its receive buffer was full).
fc_udp_drops() {
	awk -v p="$(printf ':%04X' "$1")" 'NR > 1 && substr($2, length($2) - 4) == p { n += $NF } END { print n + 0 }' \
		/proc/net/udp /proc/net/udp6
}

# fc_drain NAME SENT: nfacctd logs each datagram (debug); nfcapd logs nothing per datagram,
# so for it this waits until its socket's receive queue is empty. At most 10 s.
fc_drain() {
	local name=$1 want=$2 got=0
	for _ in $(seq 1 100); do
		kill -0 "$FC_PID" 2>/dev/null || fc_died "$name" "is gone after the replay"
		if [ "$FC_KIND_RUNNING" = nfacctd ]; then
			got=$(grep -c "Received NetFlow\(/IPFIX\)\? packet from" "$WORK/$name.log" || true)
			[ "$got" -lt "$want" ] || return 0
		elif [ "$FC_KIND_RUNNING" = sink ]; then
			got=$(grep -c "^udp " "$WORK/$name.dump" || true)
			[ "$got" -lt "$want" ] || return 0
		else
			got=$(fc_udp_rx_queue "$FC_PORT")
			[ "$got" -ne 0 ] || { sleep 0.2; return 0; }	# read; a moment to store them
		fi
		sleep 0.1
	done
	[ "$FC_KIND_RUNNING" != nfcapd ] || fail "$name: nfcapd's socket still holds $got bytes after 10 s"
	local drops
	drops=$(fc_udp_drops "$FC_PORT")
	[ "$drops" -eq 0 ] || fail "$name: $FC_KIND_RUNNING read $got of the $want datagrams sent: the kernel" \
		"dropped $drops at its socket (its receive buffer was full: the collector could not keep up)"
	fail "$name: $FC_KIND_RUNNING read $got of the $want datagrams sent within 10 s"
}

# fc_stop NAME: nfacctd writes its cache on SIGINT; nfcapd closes its file on SIGTERM and
# nfdump then reads it into $WORK/NAME.json (times in UTC for flowcmp; no -q, which breaks
# the JSON) and its statistics into $WORK/NAME.stat.
fc_stop() {
	local name=$1 rc=0 sig=INT
	[ "$FC_KIND_RUNNING" != nfcapd ] || sig=TERM
	kill -0 "$FC_PID" 2>/dev/null || fc_died "$name" "is gone before it was stopped"
	kill -"$sig" "$FC_PID"
	for _ in $(seq 1 100); do
		kill -0 "$FC_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$FC_PID" 2>/dev/null; then
		kill -KILL "$FC_PID"
		fc_died "$name" "did not exit within 10 s of SIG$sig"
	fi
	wait "$FC_PID" || rc=$?
	FC_PID="" FC_PLUGINS=""
	[ $rc -eq 0 ] || fc_died "$name" "exited with $rc on SIG$sig"
	if [ "$FC_KIND_RUNNING" = sink ]; then
		python3 "$TR_SOURCE_DIR/tests/e2e/collectors/flowdump.py" "$WORK/$name.dump" \
			"$WORK/$name.json" "$WORK/$name.stat.json" || fail "$name: flowdump.py could not decode the sink's dump"
		FC_KIND=expect
	elif [ "$FC_KIND_RUNNING" = nfacctd ]; then
		! grep -q "connection lost to" "$WORK/$name.log" || fc_died "$name" "lost its print plugin"
		# No record at all is a valid outcome for some cases: an empty file, not a missing one.
		touch "$WORK/$name.json"
		FC_KIND=nfacctd
	else
		grep -q "^Terminating nfcapd" "$WORK/$name.log" || fc_died "$name" "did not terminate normally"
		TZ=UTC timeout 30 nfdump -R "$WORK/$name.d" -o json >"$WORK/$name.json" 2>"$WORK/$name.nfdump.err" ||
			{ cat "$WORK/$name.nfdump.err" >&2; fail "$name: nfdump could not read nfcapd's files"; }
		# nfdump 1.7.1 prints nothing at all, not even [], for a file without flows.
		[ -s "$WORK/$name.json" ] || echo '[]' >"$WORK/$name.json"
		TZ=UTC timeout 30 nfdump -R "$WORK/$name.d" -I >"$WORK/$name.stat" 2>&1 ||
			{ cat "$WORK/$name.stat" >&2; fail "$name: nfdump -I failed"; }
		FC_KIND=nfdump
	fi
}

# fc_seq_errors NAME: nfacctd: its "expecting flow 'X' but received 'Y'" log lines (one per
# datagram whose sequence number is not the previous one plus what that one carried);
# nfcapd: the "Sequence failures" of nfdump -I (the sum over exporters and domains);
# sink: flowdump.py's strict count (RFC 7011: IPFIX options records count too).
fc_seq_errors() {
	if [ "$FC_KIND" = expect ]; then
		fc_stat "$1" seq_errors
	elif [ "$FC_KIND" = nfacctd ]; then
		grep -c "expecting flow '[0-9]*' but received '[0-9]*'" "$WORK/$1.log" || true
	else
		awk -F': *' '$1 == "Sequence failures" { print $2 }' "$WORK/$1.stat"
	fi
}

# fc_stat NAME FIELD [min]: sink only, flowdump.py's FIELD summed over the streams (min:
# the smallest value instead).
fc_stat() {
	python3 -c 'import json, sys
v = [s[sys.argv[2]] for s in json.load(open(sys.argv[1])).values()]
print(min(v) if sys.argv[3:] == ["min"] else sum(v))' "$WORK/$1.stat.json" "$2" "${3:-}"
}
