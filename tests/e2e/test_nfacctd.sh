#!/usr/bin/env bash
# End to end with a real collector: generated IPFIX and NetFlow v9 captures are
# replayed to nfacctd (pmacct), which must decode exactly the flow records the
# capture holds, from the mapped exporter addresses.
#
# Two oracles, both independent of the replay path:
#   - the generator's --expect file (what tr-pcapgen wrote into the capture);
#   - nfacctd reading the very same capture itself (pcap_savefile).
# The oracles are first checked against each other, then the replayed run's
# records must equal each of them (full nfacctd records for the second one),
# with the captured exporter addresses mapped to the repro addresses.
. "$(dirname "$0")/../lib.sh"

command -v nfacctd >/dev/null || skip "nfacctd (pmacct) is not installed (make test-deps)"
command -v python3 >/dev/null || skip "python3 is not installed"
if [ ! -x "$TR" ] || [ ! -x "$GEN" ]; then fail "$TR and $GEN must be built first"; fi

COLLECTORS=$TR_SOURCE_DIR/tests/e2e/collectors
CMP=(python3 "$COLLECTORS/flowcmp.py")
NF_PID="" NF_PLUGINS=""

# On exit: stop a still-running nfacctd core, and its plugin processes, which
# outlive a core that crashed or was killed (only those still named nfacctd).
nfacctd_cleanup() {
	local p
	[ -z "$NF_PID" ] || kill "$NF_PID" 2>/dev/null || true
	for p in $NF_PLUGINS; do
		grep -q '^nfacctd' "/proc/$p/cmdline" 2>/dev/null && kill -KILL "$p" 2>/dev/null
	done
	return 0
}
cleanup_hooks+=(nfacctd_cleanup)


# nfacctd_died NAME WHAT: a dead collector is reported as such, never as a wrong decode.
nfacctd_died() {
	echo "--- last lines of $WORK/$1.log:" >&2
	grep -v "^INFO ( default/core ):  '--build" "$WORK/$1.log" | tail -n 15 >&2 || true
	fail "$1: nfacctd $2 (the collector crashed or quit: no decode result to compare)"
}

# nfacctd_oracle NAME PCAP DPORT: nfacctd decodes the capture itself into $WORK/NAME.json.
# pcap_savefile_wait is deliberately off: with it on, stopping nfacctd by SIGINT after
# the end of the file hands the last buffer of records to the plugin a second time
# (1.7.7: doubled packets and bytes); off, nfacctd flushes once and exits by itself.
nfacctd_oracle() {
	local name=$1 pcap=$2 dport=$3 rc=0
	{
		cat "$COLLECTORS/nfacctd-print.conf"
		echo "pcap_savefile: $pcap"
		echo "pcap_filter: udp dst port $dport"
		echo "print_output_file[flows]: $WORK/$name.json"
	} >"$WORK/$name.conf"
	timeout 30 nfacctd -f "$WORK/$name.conf" >"$WORK/$name.log" 2>&1 || rc=$?
	[ $rc -ne 124 ] || nfacctd_died "$name" "did not finish reading $pcap within 30 s"
	[ $rc -eq 0 ] || nfacctd_died "$name" "exited with $rc while reading $pcap"
	! grep -q "connection lost to" "$WORK/$name.log" || nfacctd_died "$name" "lost its print plugin"
	[ -s "$WORK/$name.json" ] || nfacctd_died "$name" "wrote no records"
}

# nfacctd_listen NAME ADDR: nfacctd listens on ADDR and a free port (NF_PORT), records to
# $WORK/NAME.json. debug is on for its one line per datagram received: nfacctd_drain
# waits on those rather than on a fixed delay.
nfacctd_listen() {
	local name=$1 addr=$2 attempt
	for attempt in 1 2 3; do
		NF_PORT=$(free_port udp "$addr")
		{
			cat "$COLLECTORS/nfacctd-print.conf"
			echo "debug: true"
			echo "nfacctd_ip: $addr"
			echo "nfacctd_port: $NF_PORT"
			echo "print_output_file[flows]: $WORK/$name.json"
		} >"$WORK/$name.conf"
		nfacctd -f "$WORK/$name.conf" >"$WORK/$name.log" 2>&1 &
		NF_PID=$!
		for _ in $(seq 1 100); do
			if grep -q "waiting for NetFlow/IPFIX data on" "$WORK/$name.log"; then
				NF_PLUGINS=$(pgrep -P "$NF_PID" | tr '\n' ' ' || true)
				return 0
			fi
			kill -0 "$NF_PID" 2>/dev/null || break
			sleep 0.05
		done
		if kill -0 "$NF_PID" 2>/dev/null; then
			nfacctd_died "$name" "was not listening after 5 s"
		fi
		wait "$NF_PID" || true
		NF_PID=""
		# Another process took the port between the probe and nfacctd's bind: try another.
		grep -q "bind() to .* failed" "$WORK/$name.log" || nfacctd_died "$name" "exited at start-up"
		note "$name: port $NF_PORT was taken (attempt $attempt), retrying"
	done
	fail "$name: no free UDP port found for nfacctd after 3 attempts"
}

# nfacctd_drain NAME N: wait (at most 10 s) until nfacctd has read N datagrams.
nfacctd_drain() {
	local name=$1 want=$2 got=0
	for _ in $(seq 1 100); do
		kill -0 "$NF_PID" 2>/dev/null || nfacctd_died "$name" "is gone after the replay"
		got=$(grep -c "Received NetFlow/IPFIX packet" "$WORK/$name.log" || true)
		[ "$got" -lt "$want" ] || return 0
		sleep 0.1
	done
	fail "$name: nfacctd read $got of the $want datagrams sent within 10 s"
}

# nfacctd_stop NAME: SIGINT writes the cache; a collector that does not exit cleanly fails the test.
nfacctd_stop() {
	local name=$1 rc=0
	kill -0 "$NF_PID" 2>/dev/null || nfacctd_died "$name" "is gone before it was stopped"
	kill -INT "$NF_PID"
	for _ in $(seq 1 100); do
		kill -0 "$NF_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$NF_PID" 2>/dev/null; then
		kill -KILL "$NF_PID"
		nfacctd_died "$name" "did not exit within 10 s of SIGINT"
	fi
	wait "$NF_PID" || rc=$?
	NF_PID=""
	[ $rc -eq 0 ] || nfacctd_died "$name" "exited with $rc on SIGINT"
	! grep -q "connection lost to" "$WORK/$name.log" || nfacctd_died "$name" "lost its print plugin"
	[ -s "$WORK/$name.json" ] || nfacctd_died "$name" "wrote no records"
	NF_PLUGINS=""
}

# round NAME PROTO DPORT COLLECTOR_ADDR CAPTURED=REPRO...: one capture, both oracles, one replay.
round() {
	local name=$1 proto=$2 dport=$3 coll=$4; shift 4
	local maps=("$@") gen_args=() map_args=() m n sent
	for m in "${maps[@]}"; do
		gen_args+=(--exporter "${m%%=*}")
		map_args+=(--map "$m")
	done

	# 16 datagrams of 5 records, templates resent every 3 data messages, and unselected
	# noise (ARP, ICMP, UDP to dport+1, TCP) that neither the replay nor the oracle takes.
	"$GEN" --proto "$proto" --count 16 --records 5 --template-every 3 --noise \
		--dport "$dport" "${gen_args[@]}" --out "$WORK/$name.pcap" --expect "$WORK/$name.expect" ||
		fail "$name: tr-pcapgen failed"
	n=$(wc -l <"$WORK/$name.expect")
	[ "$n" -gt 0 ] || fail "$name: the generator wrote no flow records"

	# Oracle: nfacctd on the capture, checked against the generator before it is used.
	nfacctd_oracle "$name-oracle" "$WORK/$name.pcap" "$dport"
	"${CMP[@]}" "expect:$WORK/$name.expect" "nfacctd:$WORK/$name-oracle.json" --count "$n" ||
		fail "$name: nfacctd reading the capture disagrees with the generator (oracle broken?)"

	# The replay, in the older tool's schema.
	nfacctd_listen "$name-live" "$coll"
	replay_flows "$name" "$dport" "$coll" "$NF_PORT" "${maps[@]}"
	sent=$REPLAY_SENT
	nfacctd_drain "$name-live" "$sent"
	nfacctd_stop "$name-live"

	# What nfacctd decoded from the replay = what the generator wrote, from the repro addresses ...
	"${CMP[@]}" "expect:$WORK/$name.expect" "nfacctd:$WORK/$name-live.json" "${map_args[@]}" --count "$n" ||
		fail "$name: nfacctd decoded something else from the replay than the generator wrote"
	# ... and = what nfacctd decoded from the capture itself, every field it prints.
	"${CMP[@]}" "nfacctd:$WORK/$name-oracle.json" "nfacctd:$WORK/$name-live.json" "${map_args[@]}" --count "$n" ||
		fail "$name: nfacctd decoded the replay differently from the capture"
	# The comparison must tell exporters apart: without the mapping it has to fail.
	if "${CMP[@]}" "nfacctd:$WORK/$name-oracle.json" "nfacctd:$WORK/$name-live.json" >/dev/null 2>&1; then
		fail "$name: the comparison passes even with the exporter addresses unmapped"
	fi
	note "$name: $n flow records, $sent datagrams: replay decoded = capture decoded = generated"
}

round ipfix4 ipfix 4739 127.0.0.1 192.0.2.1=127.0.0.2 192.0.2.2=127.0.0.3
round nfv9-4 nfv9 2055 127.0.0.1 192.0.2.1=127.0.0.2 192.0.2.2=127.0.0.3
# IPv6 exporters (IPv6 flow records) when this host has an IPv6 loopback.
if python3 -c 'import socket; socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).bind(("::1", 0))' 2>/dev/null; then
	round ipfix6 ipfix 4739 ::1 2001:db8::1=::1
	round nfv9-6 nfv9 2055 ::1 2001:db8::1=::1
else
	note "no IPv6 loopback: IPv6 exporters not tested"
fi
echo "PASS"
