#!/usr/bin/env bash
# Interop tier: the raw captures of the older tool's pre-processing examples (both
# directions, handshakes, keep-alive probes with a stale byte, retransmissions, sessions
# that start mid-stream), replayed with a BMP or BGP selector, yield exactly the exporter's
# reassembled stream as tshark follows it: from the first message boundary, whole messages.
. "$(dirname "$0")/../lib.sh"

[ -n "${TR_CORPUS:-}" ] || skip "TR_CORPUS is not set: the interop tier needs the corpus of real captures"
RAW=$TR_CORPUS/anchor/examples/pcap_processing
[ -d "$RAW" ] || fail "TR_CORPUS=$TR_CORPUS has no anchor/examples/pcap_processing"
command -v tshark >/dev/null || skip "tshark is not installed (make test-deps)"
STREAMS=$TR_SOURCE_DIR/tests/interop/streams.py
CEASE=ffffffffffffffffffffffffffffffff0015030602

start_sink sink "$TR" sink --tcp 0 --tcp 0
BMP_PORT=$(ready_port "$WORK/sink.ready" tcp 1)
BGP_PORT=$(ready_port "$WORK/sink.ready" tcp 2)

# exporters PCAP DPORT: the addresses that send payload to DPORT.
exporters() {
	tshark -r "$1" -Y "tcp.dstport == $2 && tcp.len > 0" -T fields -e ip.src -e ipv6.src 2>/dev/null </dev/null |
		awk 'NF { print $1 }' | awk '!seen[$0]++'
}

# sessions PCAP DPORT PORT: "PORT REPRO HEX" per captured session to DPORT, by tshark's follow.
sessions() {
	local pcap=$1 dport=$2 port=$3 stream src
	tshark -r "$pcap" -Y "tcp.dstport == $dport && tcp.len > 0" -T fields -E separator=' ' \
		-e tcp.stream -e ip.src -e ipv6.src 2>/dev/null </dev/null | awk '!seen[$1]++' |
	while read -r stream src; do
		tshark -r "$pcap" -q -z "follow,tcp,raw,$stream" 2>/dev/null </dev/null |
			awk -v src="$src" '
			/^Node 0: / { node0 = $3; sub(/:[0-9]+$/, "", node0); gsub(/[][]/, "", node0) }
			/^=+$/ { n++; next }
			n == 1 && /^\t[0-9a-f]+$/ && node0 != src { sub(/^\t/, ""); printf "%s", $0 }
			n == 1 && /^[0-9a-f]+$/ && node0 == src { printf "%s", $0 }
			END { printf "\n" }' |
			awk -v port="$port" -v repro="$(repro_of "$src")" '{ print port, repro, $1 }'
	done
}

REPROS=()
repro_of() {
	local i
	for i in "${!REPROS[@]}"; do [ "${REPROS[$i]}" = "$1" ] && { echo "127.0.1.$((i + 1))"; return; }; done
	REPROS+=("$1")
	echo "127.0.1.${#REPROS[@]}"
}

checked=0
for pcap in "$RAW"/*.pcap; do
	name=$(basename "$pcap" .pcap)
	bmp_src=$(exporters "$pcap" 1790)
	bgp_src=$(exporters "$pcap" 179)
	[ -n "$bmp_src$bgp_src" ] || continue
	REPROS=()
	for src in $bmp_src $bgp_src; do repro_of "$src" >/dev/null; done
	{
		echo "pcap: $pcap"
		echo "time_factor: 0"
		echo "no_sync: true"
		echo "network:"
		echo "  map:"
		for i in "${!REPROS[@]}"; do echo "  - {src_ip: \"${REPROS[$i]}\", repro_ip: 127.0.1.$((i + 1))}"; done
		echo "bmp: {select: {tcp: {dport: [1790]}}, collector: {ip: 127.0.0.1, port: $BMP_PORT}}"
		echo "bgp: {select: {tcp: {dport: [179]}}, collector: {ip: 127.0.0.1, port: $BGP_PORT}}"
	} >"$WORK/$name.yml"
	{ [ -z "$bmp_src" ] || sessions "$pcap" 1790 "$BMP_PORT"; [ -z "$bgp_src" ] || sessions "$pcap" 179 "$BGP_PORT"; } |
		python3 "$STREAMS" --sessions "$BMP_PORT" "$BGP_PORT" --append-bgp "$CEASE" >"$WORK/$name.expected"
	before=$(wc -l <"$WORK/sink.dump")
	"$TR" -t "$WORK/$name.yml" --stats-json "$WORK/$name.stats.json" 2>"$WORK/$name.log" ||
		{ cat "$WORK/$name.log"; fail "$name: exit $?"; }
	want=$(awk '{ n += $3 } END { print n + 0 }' "$WORK/$name.expected")
	for _ in $(seq 1 50); do
		got=$(tail -n +"$((before + 1))" "$WORK/sink.dump" | awk '$1 == "tcp" { n += length($5) / 2 } END { print n + 0 }')
		[ "$got" -ge "$want" ] && break
		sleep 0.1
	done
	tail -n +"$((before + 1))" "$WORK/sink.dump" | awk '$1 == "tcp" { print $4, $2 "/" $3, $5 }' |
		python3 "$STREAMS" --connections >"$WORK/$name.got"
	diff <(sort "$WORK/$name.expected") <(sort "$WORK/$name.got") || {
		echo "(lines, one per session: PORT EXPORTER BYTES SHA256; < expected, > received)"
		fail "$name: the replayed streams are not the captured ones"
	}
	note "$name: $(wc -l <"$WORK/$name.expected") sessions, $want bytes byte-exact; $(json_get "$WORK/$name.stats.json" 'd["tcp"]')"
	checked=$((checked + 1))
done
stop_sink
[ "$checked" -gt 0 ] || fail "no raw capture with BMP or BGP found in $RAW"
echo "PASS ($checked captures)"
