#!/usr/bin/env bash
# Interop tier: every config of the older tool's examples runs unchanged, inside a network
# namespace that owns its addresses: every selected datagram arrives byte-exact, and every
# TCP session arrives as the exact byte stream the exporter sent (BGP: plus our closing Cease).
. "$(dirname "$0")/../lib.sh"

[ -n "${TR_CORPUS:-}" ] || skip "TR_CORPUS is not set: the interop tier needs the corpus of real captures"
ANCHOR=$TR_CORPUS/anchor
[ -d "$ANCHOR/examples" ] || fail "TR_CORPUS=$TR_CORPUS has no anchor/examples"
[ "$(id -u)" -eq 0 ] || skip "network namespaces need root"
command -v tshark >/dev/null || skip "tshark is not installed (make test-deps)"
ip netns add "tr-probe-$$" 2>/dev/null || skip "cannot create network namespaces here"
ip netns del "tr-probe-$$"

PLAN=$TR_SOURCE_DIR/tests/interop/corpus_plan.py
STREAMS=$TR_SOURCE_DIR/tests/interop/streams.py
FLOWSEQ=$TR_SOURCE_DIR/tests/interop/flowseq.py
NS=""
cleanup_hooks+=('[ -z "$NS" ] || ip netns del "$NS" 2>/dev/null')

# make_namespace NAME ADDR...: a namespace whose loopback has the given addresses.
make_namespace() {
	NS=$1; shift
	ip netns add "$NS"
	ip -n "$NS" link set lo up
	for a in "$@"; do
		case $a in
		*:*) ip -n "$NS" -6 addr add "$a/128" dev lo nodad ;;
		*) ip -n "$NS" addr add "$a/32" dev lo ;;
		esac
	done
}

# expected_datagrams: "PORT REPRO_IP HEX" for every selected datagram, in play order,
# NetFlow/IPFIX sequence numbers as `sequence` (OPT in the plan) makes them.
expected_datagrams() {
	local sequence
	sequence=$(awk '$1 == "OPT" && $2 == "sequence" { print $3 }' "$WORK/plan")
	captured_datagrams | python3 "$FLOWSEQ" ${sequence:+--$sequence}
}

# captured_datagrams: "PORT REPRO_IP HEX SPORT" for every selected datagram, in play order.
captured_datagrams() {
	local pcap port dports filter
	while read -r _ pcap; do
		while read -r _ _ port dports; do
			filter="udp.dstport in {${dports//,/ }}"
			tshark -r "$ANCHOR/$pcap" -Y "$filter && !icmp && !icmpv6" -T fields \
				-E separator=' ' -e ip.src -e ipv6.src -e udp.payload -e udp.srcport 2>/dev/null </dev/null |
				awk -v port="$port" -v maps="$MAPS" '
				BEGIN { n = split(maps, m, " "); for (i = 1; i < n; i += 2) repro[m[i]] = m[i + 1] }
				NF == 3 && ($1 in repro) { print port, repro[$1], $2, $3 }'
		done < <(grep '^UDP ' "$WORK/plan")
	done < <(grep '^PLAY ' "$WORK/plan")
}

# Without no_sync, the first datagram must go out at the capture's second of the minute.
check_minute_sync() {
	local name=$1 no_sync first_pcap first_ts sent
	no_sync=$(awk '$1 == "OPT" && $2 == "no_sync" { print $3 }' "$WORK/plan")
	[ "$no_sync" = false ] || return 0
	first_pcap=$(awk '$1 == "PLAY" { print $2; exit }' "$WORK/plan")
	local dports
	dports=$(awk '$1 == "UDP" { print $4 }' "$WORK/plan" | tr ',\n' '  ')
	[ -n "${dports// /}" ] || return 0
	first_ts=$(tshark -r "$ANCHOR/$first_pcap" -Y "udp.dstport in {$dports}" -T fields -e frame.time_epoch 2>/dev/null | head -1)
	sent=$(json_get "$WORK/$name.stats.json" 'd["first_sent_unix"]')
	python3 - "$first_ts" "$sent" <<'PY' || fail "$name: minute sync missed"
import sys
want, got = (float(x) % 60 for x in sys.argv[1:3])
off = min(abs(want - got), 60 - abs(want - got))
print(f"--- minute sync: capture second {want:.3f}, sent at second {got:.3f} (off by {off * 1000:.1f} ms)")
sys.exit(0 if off < 0.5 else 1)
PY
}

# expected_streams: "PORT REPRO HEX" per selected TCP segment with payload, in play order.
# The corpus captures are clean (written by the older tool's pre-processing: no
# retransmissions, one direction), so the exporter's stream is its payloads in
# capture order. (tshark's follow,tcp is no oracle for them: it drops a byte of
# their SYN segments, which carry data from the SYN's own sequence number.)
# Each capture is decoded once, however often the list plays it.
CEASE=ffffffffffffffffffffffffffffffff0015030602
expected_streams() {
	local pcap section port dports cache
	while read -r _ pcap; do
		cache=$WORK/tcp-$(echo "$pcap" | tr '/' '_').lines
		if [ ! -e "$cache" ]; then
			while read -r _ section port dports; do
				tshark -r "$ANCHOR/$pcap" -Y "tcp.dstport in {${dports//,/ }} && tcp.len > 0" -T fields \
					-E separator=' ' -e ip.src -e ipv6.src -e tcp.payload 2>/dev/null </dev/null |
					awk -v port="$port" -v maps="$MAPS" '
					BEGIN { n = split(maps, m, " "); for (i = 1; i < n; i += 2) repro[m[i]] = m[i + 1] }
					NF == 2 && ($1 in repro) { print port, repro[$1], $2 }'
			done < <(grep '^TCP ' "$WORK/plan") >"$cache"
		fi
		cat "$cache"
	done < <(grep '^PLAY ' "$WORK/plan")
}

# A config that names a capture that does not exist must say which, before sending anything.
check_missing_capture() {
	local cfg=$1 name=$2 missing=$3 rc=0
	(cd "$ANCHOR" && "$TR" -t "$cfg") >/dev/null 2>"$WORK/$name.log" || rc=$?
	[ $rc -eq 2 ] && grep -q "$missing: cannot open: No such file" "$WORK/$name.log" ||
		{ cat "$WORK/$name.log"; fail "$name: names the missing $missing: exit $rc"; }
	note "$name: exit 2: $(head -1 "$WORK/$name.log")"
}

run_config() {
	local cfg=$1 name
	name=$(basename "$cfg" .yml)
	(cd "$ANCHOR" && "$TR" -t "$cfg" -n) | python3 "$PLAN" >"$WORK/plan" ||
		fail "$name: cannot plan (see above)"
	MAPS=$(awk '$1 == "MAP" { printf "%s %s ", $2, $3 }' "$WORK/plan")
	local pcap
	for pcap in $(awk '$1 == "PLAY" { print $2 }' "$WORK/plan" | sort -u); do
		if [ ! -e "$ANCHOR/$pcap" ]; then
			check_missing_capture "$cfg" "$name" "$pcap"
			return 0
		fi
	done
	expected_datagrams >"$WORK/$name.expected"
	local bmp_ports bgp_ports
	bmp_ports=$(awk '$1 == "TCP" && $2 == "bmp" { printf "%s,", $3 }' "$WORK/plan")
	bgp_ports=$(awk '$1 == "TCP" && $2 == "bgp" { printf "%s,", $3 }' "$WORK/plan")
	# BGP sessions the capture leaves open are closed by the replay with a Cease.
	expected_streams | python3 "$STREAMS" --complete "$bmp_ports" "$bgp_ports" \
		--append-bgp "$CEASE" >"$WORK/$name.expected-tcp"
	local want want_tcp_bytes
	want=$(wc -l <"$WORK/$name.expected")
	want_tcp_bytes=$(awk '{ n += $3 } END { print n + 0 }' "$WORK/$name.expected-tcp")
	[ "$want" -gt 0 ] || [ "$want_tcp_bytes" -gt 0 ] || fail "$name: the capture has nothing selected: nothing to check"

	make_namespace "tr-interop-$$" $(awk '$1 == "ADDR" { print $2 }' "$WORK/plan")
	local sink_args=()
	for port in $(awk '$1 == "UDP" { print $3 }' "$WORK/plan" | sort -u); do sink_args+=(--udp "$port"); done
	for port in $(awk '$1 == "TCP" { print $3 }' "$WORK/plan" | sort -u); do sink_args+=(--tcp "$port"); done
	start_sink "$name-sink" ip netns exec "$NS" "$TR" sink "${sink_args[@]}"

	# The config runs unchanged, from the folder its relative paths expect.
	local keep_open rc=0 started
	keep_open=$(awk '$1 == "OPT" && $2 == "keep_open" { print $3 }' "$WORK/plan")
	started=$(date +%s)
	(cd "$ANCHOR" && exec ip netns exec "$NS" "$TR" -t "$cfg" --stats-json "$WORK/$name.stats.json") \
		2>"$WORK/$name.log" &
	local pid=$!
	# keep_open holds the process after the last capture: stop it once everything arrived.
	for _ in $(seq 1 1800); do
		kill -0 $pid 2>/dev/null || break
		if [ "$keep_open" = true ] && [ "$(grep -c '^udp ' "$WORK/$name-sink.dump" || true)" -ge "$want" ] &&
			[ "$(awk '$1 == "tcp" { n += length($5) / 2 } END { print n + 0 }' "$WORK/$name-sink.dump")" -ge "$want_tcp_bytes" ]; then
			sleep 0.5
			kill -INT $pid
		fi
		sleep 0.1
	done
	wait $pid || rc=$?
	[ "$rc" -eq 0 ] || { cat "$WORK/$name.log"; fail "$name: exit $rc"; }
	sleep 0.3
	stop_sink
	awk '$1 == "udp" { print $4, $2, $5 }' "$WORK/$name-sink.dump" >"$WORK/$name.got"

	for key in $(awk '{ print $1 "/" $2 }' "$WORK/$name.expected" | sort -u); do
		diff <(awk -v k="$key" '$1 "/" $2 == k' "$WORK/$name.expected") \
			<(awk -v k="$key" '$1 "/" $2 == k' "$WORK/$name.got") >"$WORK/$name.diff" ||
			{ head -5 "$WORK/$name.diff"; fail "$name: datagrams to port/from ${key/\// } differ from the capture"; }
	done
	[ "$(wc -l <"$WORK/$name.got")" -eq "$want" ] ||
		fail "$name: $(wc -l <"$WORK/$name.got") datagrams arrived, $want expected"
	awk '$1 == "tcp" { print $4, $2, $5 }' "$WORK/$name-sink.dump" | python3 "$STREAMS" >"$WORK/$name.got-tcp"
	diff <(sort "$WORK/$name.expected-tcp") <(sort "$WORK/$name.got-tcp") || {
		echo "(lines: PORT EXPORTER BYTES SHA256; < expected, > received)"
		fail "$name: the TCP streams differ from the capture's"
	}
	# One connection per captured session, but for those that continue a live one mid-stream
	# from another port (the scenario's parts 7 and 8): they go on its connection.
	local conns sessions
	conns=$(json_get "$WORK/$name-sink.json" 'sum(t["connections"] for t in d["tcp"])')
	sessions=$(json_get "$WORK/$name.stats.json" 'd["tcp"]["sessions"] - d["tcp"]["sessions_joined"]')
	[ "$conns" -eq "$sessions" ] ||
		fail "$name: $conns TCP connections at the sink for $sessions captured sessions not joined to another"
	# The scenario's BMP feed is one router's: parts 7 and 8 (another port, no SYN) join it.
	[ "$name" != ipfix-bmp-scenario-segmented ] || [ "$conns" -eq 1 ] ||
		fail "$name: the router's BMP feed arrived over $conns connections, not one"
	note "$name: $want datagrams and $want_tcp_bytes TCP bytes in $(wc -l <"$WORK/$name.expected-tcp") streams byte-exact, $conns TCP connections, $(json_get "$WORK/$name.stats.json" 'd["tcp"]["sessions_joined"]') sessions joined ($(( $(date +%s) - started )) s)"
	check_minute_sync "$name"
	ip netns del "$NS"
	NS=""
}

configs=0
for cfg in "$ANCHOR"/examples/*.yml; do
	run_config "examples/$(basename "$cfg")"
	configs=$((configs + 1))
done
[ "$configs" -gt 0 ] || fail "no config found in $ANCHOR/examples"
echo "PASS ($configs configs)"
