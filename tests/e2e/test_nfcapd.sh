#!/usr/bin/env bash
# End to end with a real collector: generated IPFIX, NetFlow v9 and NetFlow v5
# captures are replayed to nfcapd (nfdump 1.7.1); the flows nfdump then reads
# back must be exactly the records the generator wrote (its --expect file, an
# oracle independent of the replay path), from the mapped exporter addresses,
# and nfdump must count no sequence failure for a single in-order replay.
. "$(dirname "$0")/../lib.sh"

if ! command -v nfcapd >/dev/null || ! command -v nfdump >/dev/null; then
	skip "nfcapd/nfdump are not installed (make test-deps)"
fi
command -v python3 >/dev/null || skip "python3 is not installed"
if [ ! -x "$TR" ] || [ ! -x "$GEN" ]; then fail "$TR and $GEN must be built first"; fi

CMP=(python3 "$TR_SOURCE_DIR/tests/e2e/collectors/flowcmp.py")
NC_PID=""
cleanup_hooks+=('[ -z "$NC_PID" ] || kill "$NC_PID" 2>/dev/null')


# nfcapd_died NAME WHAT: a dead collector is reported as such, never as a wrong decode.
nfcapd_died() {
	echo "--- last lines of $WORK/$1.log:" >&2
	tail -n 15 "$WORK/$1.log" >&2 || true
	fail "$1: nfcapd $2 (the collector crashed or quit: no decode result to compare)"
}

# nfcapd_listen NAME ADDR: nfcapd on ADDR and a free port (NC_PORT), files in $WORK/NAME.d.
# -t 86400: one file for the whole run, closed when nfcapd stops.
nfcapd_listen() {
	local name=$1 addr=$2 family=-4 attempt
	case $addr in *:*) family=-6 ;; esac
	rm -rf "$WORK/$name.d" && mkdir "$WORK/$name.d"
	for attempt in 1 2 3; do
		NC_PORT=$(free_port udp "$addr")
		nfcapd "$family" -b "$addr" -p "$NC_PORT" -w "$WORK/$name.d" -t 86400 >"$WORK/$name.log" 2>&1 &
		NC_PID=$!
		for _ in $(seq 1 100); do
			grep -q "^Startup nfcapd" "$WORK/$name.log" && return 0
			kill -0 "$NC_PID" 2>/dev/null || break
			sleep 0.05
		done
		if kill -0 "$NC_PID" 2>/dev/null; then
			nfcapd_died "$name" "was not listening after 5 s"
		fi
		wait "$NC_PID" || true
		NC_PID=""
		# Another process took the port between the probe and nfcapd's bind: try another.
		grep -q "Address already in use" "$WORK/$name.log" || nfcapd_died "$name" "exited at start-up"
		note "$name: port $NC_PORT was taken (attempt $attempt), retrying"
	done
	fail "$name: no free UDP port found for nfcapd after 3 attempts"
}

# udp_rx_queue PORT: bytes waiting in the receive queue of the local UDP socket on PORT
# (-1 if there is none). /proc/net/udp{,6}: local address "ADDR:PORT" and "TX:RX" in hex.
udp_rx_queue() {
	local hex total=0 found=0
	for hex in $(awk -v p="$(printf ':%04X' "$1")" \
		'substr($2, length($2) - 4) == p { split($5, q, ":"); print q[2] }' /proc/net/udp /proc/net/udp6); do
		total=$((total + 16#$hex)) found=1
	done
	[ $found -eq 1 ] && echo "$total" || echo -1
}

# nfcapd_drain NAME: wait (at most 10 s) until nfcapd has read every queued datagram.
# nfcapd logs nothing per datagram, so this watches its socket's receive queue.
nfcapd_drain() {
	local name=$1 q=-1
	for _ in $(seq 1 100); do
		kill -0 "$NC_PID" 2>/dev/null || nfcapd_died "$name" "is gone after the replay"
		q=$(udp_rx_queue "$NC_PORT")
		[ "$q" -ne 0 ] || { sleep 0.2; return 0; }	# read; give it a moment to store them
		sleep 0.1
	done
	[ "$q" -ge 0 ] || fail "$name: no UDP socket on port $NC_PORT in /proc/net/udp*"
	fail "$name: nfcapd's socket still holds $q bytes after 10 s"
}

# nfcapd_stop NAME: SIGTERM closes the flow file; a collector that does not exit cleanly fails the test.
nfcapd_stop() {
	local name=$1 rc=0
	kill -0 "$NC_PID" 2>/dev/null || nfcapd_died "$name" "is gone before it was stopped"
	kill -TERM "$NC_PID"
	for _ in $(seq 1 100); do
		kill -0 "$NC_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$NC_PID" 2>/dev/null; then
		kill -KILL "$NC_PID"
		nfcapd_died "$name" "did not exit within 10 s of SIGTERM"
	fi
	wait "$NC_PID" || rc=$?
	NC_PID=""
	[ $rc -eq 0 ] || nfcapd_died "$name" "exited with $rc on SIGTERM"
	grep -q "^Terminating nfcapd" "$WORK/$name.log" || nfcapd_died "$name" "did not terminate normally"
}

# round NAME PROTO DPORT COLLECTOR_ADDR CAPTURED=REPRO...: one capture, one replay, one check.
round() {
	local name=$1 proto=$2 dport=$3 coll=$4; shift 4
	local maps=("$@") gen_args=() map_args=() ignore=() m n sent seqfail flows
	for m in "${maps[@]}"; do
		gen_args+=(--exporter "${m%%=*}")
		map_args+=(--map "$m")
	done

	# 16 datagrams of 5 records (templates resent every 3 data messages for IPFIX/v9),
	# and unselected noise (ARP, ICMP, UDP to dport+1, TCP) that the replay must leave out.
	if [ "$proto" != nfv5 ]; then gen_args+=(--template-every 3); fi
	"$GEN" --proto "$proto" --count 16 --records 5 --noise --dport "$dport" "${gen_args[@]}" \
		--out "$WORK/$name.pcap" --expect "$WORK/$name.expect" || fail "$name: tr-pcapgen failed"
	n=$(wc -l <"$WORK/$name.expect")
	[ "$n" -gt 0 ] || fail "$name: the generator wrote no flow records"

	nfcapd_listen "$name" "$coll"
	replay_flows "$name" "$dport" "$coll" "$NC_PORT" "${maps[@]}"
	sent=$REPLAY_SENT
	nfcapd_drain "$name"
	nfcapd_stop "$name"

	# nfdump writes times in the local zone: pin it to UTC for flowcmp. No -q: it breaks the JSON.
	TZ=UTC timeout 30 nfdump -R "$WORK/$name.d" -o json >"$WORK/$name.json" 2>"$WORK/$name.nfdump.err" ||
		{ cat "$WORK/$name.nfdump.err" >&2; fail "$name: nfdump could not read nfcapd's files"; }
	# nfdump 1.7.1 does not decode IPFIX flowStartSeconds/flowEndSeconds (IE 150/151, the
	# generator's): it prints the epoch for them, so IPFIX flows are compared without times.
	if [ "$proto" = ipfix ]; then ignore=(--ignore start --ignore end); fi
	"${CMP[@]}" "expect:$WORK/$name.expect" "nfdump:$WORK/$name.json" "${map_args[@]}" "${ignore[@]}" --count "$n" ||
		fail "$name: the flows nfcapd stored from the replay differ from what the generator wrote"

	# nfdump's statistics: every flow, and no sequence failure (datagrams lost or reordered).
	TZ=UTC timeout 30 nfdump -R "$WORK/$name.d" -I >"$WORK/$name.stat" 2>&1 ||
		{ cat "$WORK/$name.stat" >&2; fail "$name: nfdump -I failed"; }
	flows=$(awk -F': *' '$1 == "Flows" { print $2 }' "$WORK/$name.stat")
	seqfail=$(awk -F': *' '$1 == "Sequence failures" { print $2 }' "$WORK/$name.stat")
	[ "$flows" = "$n" ] || fail "$name: nfdump's statistics count '$flows' flows, $n generated"
	[ "$seqfail" = 0 ] || fail "$name: nfdump counts '$seqfail' sequence failures for an in-order replay"
	note "$name: $n flow records in $sent datagrams stored as generated, 0 sequence failures"
}

round ipfix4 ipfix 4739 127.0.0.1 192.0.2.1=127.0.0.2 192.0.2.2=127.0.0.3
round nfv9-4 nfv9 2055 127.0.0.1 192.0.2.1=127.0.0.2 192.0.2.2=127.0.0.3
round nfv5-4 nfv5 2055 127.0.0.1 192.0.2.1=127.0.0.2 192.0.2.2=127.0.0.3
# IPv6 exporters (IPv6 flow records; v5 has none) when this host has an IPv6 loopback.
if python3 -c 'import socket; socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).bind(("::1", 0))' 2>/dev/null; then
	round ipfix6 ipfix 4739 ::1 2001:db8::1=::1
	round nfv9-6 nfv9 2055 ::1 2001:db8::1=::1
else
	note "no IPv6 loopback: IPv6 exporters not tested"
fi
echo "PASS"
