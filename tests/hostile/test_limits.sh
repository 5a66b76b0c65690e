#!/usr/bin/env bash
# Hostile tier: captures that make the tool keep state (issue 10).  Whatever a capture holds,
# --info, -p and the replay stay under 256 MB of peak RSS, exit 0, name the cap they reached
# once on stderr, and count what was left out (not_tracked).  Captures from gen.py:
#
#   templates   one exporter, 2,000 IPFIX domains x 2,000 templates (34 MB; --info took 3+ GB,
#               -p 7 GB, the replay 1 GB)
#   exporters   200,000 exporters, one IPFIX message each
#   peers       4 BMP sessions x 30,000 monitored peers (Peer Ups); the replay on 1 x 30,000 (it
#               keeps the Peer Up of up to 16,384 live peers for a reconnect; each Peer Up or
#               Down is compared with those: past them it was quadratic)
#   sessions    100,000 TCP sessions never closed
#   held        32 BMP sessions whose 4 MiB each wait behind a hole (reassembly holds them):
#               a tighter bound, since only the sum over sessions is capped
#
# CASES="templates held" runs only those cases.
. "$(dirname "$0")/../lib.sh"

command -v python3 >/dev/null || skip "python3 is not installed"
# What this tier measures is peak RSS, which sanitizers multiply (and they make the large
# captures minutes long): the sanitizer pass runs these code paths in test_info_input.
if [ "${TR_SANITIZED:-0}" = 1 ]; then skip "under sanitizers peak RSS means nothing"; fi
if [ ! -x "$TR" ]; then fail "$TR must be built first"; fi
GENPY=$TR_SOURCE_DIR/tests/hostile/gen.py
RSS_MB=256
want() { [ -z "${CASES:-}" ] || [[ " $CASES " == *" $1 "* ]]; }

# pp_cfg NAME SECTION DPORT: a raw config for -p of $WORK/NAME.pcap
pp_cfg() {
	local l4=udp
	[ "$2" = ipfix ] || l4=tcp
	printf 'pcap: %s\npcap_processing:\n  output_folder: %s\n%s:\n  select: {%s: {dport: [%s]}}\n' \
		"$WORK/$1.pcap" "$WORK/$1-out" "$2" "$l4" "$3" >"$WORK/$1-p.yml"
}

# replay NAME SECTION DPORT PATTERN SRC...: replay $WORK/NAME.pcap to the built-in sink, each
# SRC mapped to a loopback address; exit 0, PATTERN on stderr, RSS bound.
replay() {
	local name=$1 section=$2 dport=$3 pattern=$4 l4=udp kind=udp i=1 src; shift 4
	[ "$section" = ipfix ] || { l4=tcp; kind=tcp; }
	start_sink "$name-sink" "$TR" sink --udp 0 --tcp 0
	{
		printf 'pcap: %s\ntime_factor: 0\nno_sync: true\nnetwork:\n  map:\n' "$WORK/$name.pcap"
		for src in "$@"; do printf '  - {src_ip: %s, repro_ip: 127.0.0.%d}\n' "$src" $((i++)); done
		printf '%s:\n  select: {%s: {dport: [%s]}}\n  collector: {ip: 127.0.0.1, port: %s}\n' \
			"$section" "$l4" "$dport" "$(ready_port "$WORK/$name-sink.ready" $kind)"
	} >"$WORK/$name-r.yml"
	hostile "$name-replay" 0 "$pattern" $RSS_MB \
		"$TR" -t "$WORK/$name-r.yml" --stats-json "$WORK/$name.stats.json"
	stop_sink
}

# info_not_tracked NAME: the --info JSON says a cap was reached and counts what it left out.
info_not_tracked() {
	[ "$(json_get "$WORK/$1-info.out" 'd["not_tracked"]["count"] > 0')" = True ] ||
		fail "$1: --info does not count what it left out: $(json_get "$WORK/$1-info.out" 'd.get("not_tracked")')"
}

if want templates; then
	python3 "$GENPY" ipfix-templates "$WORK/templates.pcap" --domains 2000 --templates 2000
	hostile templates-info 0 "more than 65536 templates: the rest is not itemised" $RSS_MB \
		"$TR" --info "$WORK/templates.pcap"
	info_not_tracked templates
	pp_cfg templates ipfix 4739
	hostile templates-p 0 "flow fidelity: more than 65536 template definitions" $RSS_MB \
		"$TR" -p -t "$WORK/templates-p.yml"
	[ "$(json_get "$WORK/templates-out/traffic-info.json" 'd["pcap_processing"]["not_tracked"] > 0')" = True ] ||
		fail "templates-p: pcap_processing.not_tracked missing"
	replay templates ipfix 4739 "flow fidelity: more than 65536 template definitions" 192.0.2.1
	[ "$(json_get "$WORK/templates.stats.json" 'd["flows"]["not_tracked"] > 0')" = True ] ||
		fail "templates-replay: flows.not_tracked is 0"
	[ "$(json_get "$WORK/templates.stats.json" 'd["sections"]["ipfix"]["sent"]')" -eq 24000 ] ||
		fail "templates-replay: not every datagram was sent"
fi

if want exporters; then
	python3 "$GENPY" exporters "$WORK/exporters.pcap" --count 200000
	hostile exporters-info 0 "more than 65536 exporters" $RSS_MB "$TR" --info "$WORK/exporters.pcap"
	info_not_tracked exporters
	[ "$(json_get "$WORK/exporters-info.out" 'd["cut"]["items_left_out"] > 0 and d["totals"]["udp_packets"] == 200000')" = True ] ||
		fail "exporters-info: the JSON was not cut at its value budget, or lost packets from the totals"
	pp_cfg exporters ipfix 4739
	hostile exporters-p 0 "-p: more than 4096 exporters" $RSS_MB "$TR" -p -t "$WORK/exporters-p.yml"
fi

if want peers; then
	python3 "$GENPY" bmp-peers "$WORK/peers.pcap" --sessions 4 --peers 30000
	hostile peers-info 0 "more than 16384 BMP peers" $RSS_MB "$TR" --info "$WORK/peers.pcap"
	info_not_tracked peers
	pp_cfg peers bmp 1790
	hostile peers-p 0 "" $RSS_MB "$TR" -p -t "$WORK/peers-p.yml"
	python3 "$GENPY" bmp-peers "$WORK/peers1.pcap" --sessions 1 --peers 30000
	replay peers1 bmp 1790 "more than 16384 monitored peers up" 192.0.2.1
fi

if want sessions; then
	python3 "$GENPY" tcp-sessions "$WORK/sessions.pcap" --count 100000
	hostile sessions-info 0 "more than 16384 TCP sessions" $RSS_MB "$TR" --info "$WORK/sessions.pcap"
	info_not_tracked sessions
	pp_cfg sessions bmp 1790
	hostile sessions-p 0 "-p: more than 16384 TCP sessions" $RSS_MB "$TR" -p -t "$WORK/sessions-p.yml"
fi

if want held; then
	# 128 MiB held behind holes: the pool keeps 64 MiB over every stream.
	python3 "$GENPY" tcp-held "$WORK/held.pcap" --sessions 32 --bytes $((4 << 20))
	hostile held-info 0 "" 112 "$TR" --info "$WORK/held.pcap"
	[ "$(json_get "$WORK/held-info.out" 'd["totals"]["bmp_messages"]')" -eq $((32 * (1 + (4 << 20) / 1400))) ] ||
		fail "held-info: BMP messages lost"
	pp_cfg held bmp 1790
	hostile held-p 0 "" 112 "$TR" -p -t "$WORK/held-p.yml"
	rm -f "$WORK/held.pcap" "$WORK/held-out/traffic.pcap"
fi
