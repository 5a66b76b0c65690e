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
# Listening, draining, stopping and reading nfcapd: the same helpers as the other flow tests.
. "$TR_SOURCE_DIR/tests/e2e/collectors/flowcoll.sh"

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

	fc_listen "$name" nfcapd "$coll"
	replay_flows "$name" "$dport" "$coll" "$FC_PORT" "${maps[@]}"
	sent=$REPLAY_SENT
	fc_drain "$name" "$sent"
	# Stopped, and read back with nfdump: records in $WORK/NAME.json, statistics in NAME.stat.
	fc_stop "$name"
	# nfdump 1.7.1 does not decode IPFIX flowStartSeconds/flowEndSeconds (IE 150/151, the
	# generator's): it prints the epoch for them, so IPFIX flows are compared without times.
	if [ "$proto" = ipfix ]; then ignore=(--ignore start --ignore end); fi
	"${CMP[@]}" "expect:$WORK/$name.expect" "nfdump:$WORK/$name.json" "${map_args[@]}" "${ignore[@]}" --count "$n" ||
		fail "$name: the flows nfcapd stored from the replay differ from what the generator wrote"

	# nfdump's statistics: every flow, and no sequence failure (datagrams lost or reordered).
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
