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
# Listening, draining and stopping nfacctd: the same helpers as the other flow tests.
. "$COLLECTORS/flowcoll.sh"

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
	fc_listen "$name-live" nfacctd "$coll"
	replay_flows "$name" "$dport" "$coll" "$FC_PORT" "${maps[@]}"
	sent=$REPLAY_SENT
	fc_drain "$name-live" "$sent"
	fc_stop "$name-live"
	[ -s "$WORK/$name-live.json" ] || fail "$name: nfacctd decoded no record from the replay"

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
