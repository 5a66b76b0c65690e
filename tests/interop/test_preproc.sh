#!/usr/bin/env bash
# Interop tier: -p on every raw config of corpus/anchor/examples/pcap_processing: exit 0;
# tshark reads the output with no warning and no error but the captured messages' own;
# BMP/BGP/IPFIX messages in the output (tshark) = the info JSON = messages_kept, and the
# input's selected messages (--info -t with every exporter mapped) = kept + dropped by the
# cleaning rules and filters; the retiming rules hold (5 s before a BMP Peer Down and the
# Peer Up after it, 1 s after a BGP OPEN); run twice: identical files; -p on the output keeps every
# message; the output replays byte-exact to the sink with the written config (placeholders
# filled in here).
. "$(dirname "$0")/../lib.sh"

[ -n "${TR_CORPUS:-}" ] || skip "TR_CORPUS is not set: the interop tier needs the corpus of real captures"
ANCHOR=$TR_CORPUS/anchor
[ -d "$ANCHOR/examples/pcap_processing" ] || fail "TR_CORPUS=$TR_CORPUS has no anchor/examples/pcap_processing"
command -v tshark >/dev/null || skip "tshark is not installed (make test-deps)"
CHECK=$TR_SOURCE_DIR/tests/interop/preproc_check.py

# fill YML SINK_TCP SINK_UDP: the written config with its placeholders filled in (every
# exporter replayed from 127.0.0.1, collectors at the sink), time_factor 0.
fill() {
	sed -e 's/repro_ip: <MISSING_PARAM>/repro_ip: 127.0.0.1/' \
		-e 's/ip: <MISSING_PARAM>/ip: 127.0.0.1/' -e 's/^time_factor: .*/time_factor: 0/' \
		-e 's/^no_sync: .*/no_sync: true/' "$1" |
		awk -v tcp="$2" -v udp="$3" '
		/^[a-z_]+:/ { sec = $1 }
		/^    port:/ { $0 = "    port: " ((sec == "ipfix:" || sec == "udp_generic:") ? udp : tcp) }
		{ print }'
}

# Per TCP session of a pcap, the exporter's payload concatenated (hex), sorted (the BGP
# collector's OPEN, from port 179, is in the output but not replayed); a BGP session (to
# port 179) ends with the Cease NOTIFICATION the replay sends when it closes it, unless
# its last message is a NOTIFICATION already.
CEASE=ffffffffffffffffffffffffffffffff0015030602
pcap_tcp_streams() {
	tshark -r "$1" -Y 'tcp.len > 0 && tcp.srcport != 179' -T fields -E separator=' ' \
		-e tcp.stream -e tcp.dstport -e tcp.payload 2>/dev/null |
		awk '{ s[$1] = s[$1] $3; p[$1] = $2 } END { for (k in s) print p[k], s[k] }' |
		python3 -c '
import sys
for line in sys.stdin:
    port, data = line.split()
    raw, at, last = bytes.fromhex(data), 0, 0
    while port == "179" and at + 19 <= len(raw):
        last, at = raw[at + 18], at + max(19, int.from_bytes(raw[at + 16:at + 18], "big"))
    print(data + ("'$CEASE'" if port == "179" and last != 3 else ""))' | sort
}
sink_tcp_streams() {
	awk '$1 == "tcp" { s[$3] = s[$3] $5 } END { for (k in s) print s[k] }' "$1" | sort
}

for cfg in "$ANCHOR"/examples/pcap_processing/*.yml; do
	name=$(basename "$cfg" .yml)
	out=$WORK/$name
	# The config as it is, but writing into $WORK (its pcap path is relative to anchor/).
	sed "s#^pcap_processing:#pcap_processing:\n  output_folder: $out#" "$cfg" >"$WORK/$name.in.yml"
	rc=0
	(cd "$ANCHOR" && "$TR" -p -t "$WORK/$name.in.yml") 2>"$WORK/$name.err" || rc=$?
	[ $rc -eq 0 ] || { cat "$WORK/$name.err" >&2; fail "$name: -p exited with $rc"; }
	for f in traffic.pcap traffic-reproducer.yml traffic-info.json; do
		[ -s "$out/$f" ] || fail "$name: no $f"
	done
	pcap=$ANCHOR/$(awk '/^pcap:/ { print $2 }' "$cfg")

	# tshark: no analysis warnings, nothing malformed but what the input's messages carry.
	dec=(-d tcp.port==1790,bmp -d udp.port==9992,cflow)
	python3 "$CHECK" expert "$pcap" "$out/traffic.pcap" "${dec[@]}" >"$WORK/$name.expert" ||
		{ cat "$WORK/$name.expert" >&2; fail "$name: tshark reports problems in the output"; }
	python3 "$CHECK" timing "$out/traffic.pcap" "${dec[@]}" >"$WORK/$name.timing" ||
		{ cat "$WORK/$name.timing" >&2; fail "$name: the retiming rules do not hold"; }
	note "$name: $(grep '^---' "$WORK/$name.timing" | sed 's/^--- //')"
	python3 "$CHECK" count "$out/traffic.pcap" "$out/traffic-info.json" 1790 9992 >"$WORK/$name.count" ||
		{ cat "$WORK/$name.count" >&2; fail "$name: message counts differ"; }

	# The input's selected messages: kept + dropped by the cleaning rules and the filters.
	{ sed 's/^pcap: .*/pcap: '"$(echo "$pcap" | sed 's#/#\\/#g')"'/' "$cfg"; echo "network:"; echo "  map:"
	  awk '/^  - src_ip:/ { print "  - {src_ip: " $3 ", repro_ip: " $3 "}" }' "$out/traffic-reproducer.yml"; } >"$WORK/$name.map.yml"
	"$TR" --info -t "$WORK/$name.map.yml" >"$WORK/$name.in.json" 2>/dev/null || fail "$name: --info on the input"
	python3 - "$WORK/$name.in.json" "$out/traffic-info.json" <<'PY' || fail "$name: input messages != kept + dropped"
import json, sys
i, o = (json.load(open(p)) for p in sys.argv[1:3])
for sec, key in (("bmp", "bmp_messages"), ("bgp", "bgp_messages")):
    s = o["pcap_processing"]["sections"].get(sec)
    if s is None:
        continue
    drop = s.get("dropped_before_initiation", s.get("dropped_before_open", 0)) + s["dropped_by_filter"]
    assert i["totals"][key] == s["messages_kept"] + drop, (sec, i["totals"][key], s)
    print(f"--- {sec}: input {i['totals'][key]} = kept {s['messages_kept']} + dropped {drop}")
PY
	note "$name: $(grep '^---' "$WORK/$name.count" | sed 's/^--- //')"

	# Determinism: a second run writes the same three files.
	mkdir -p "$WORK/$name.first"
	cp "$out"/traffic* "$WORK/$name.first/"
	(cd "$ANCHOR" && "$TR" -p -t "$WORK/$name.in.yml") 2>/dev/null || fail "$name: second -p"
	for f in traffic.pcap traffic-reproducer.yml traffic-info.json; do
		cmp -s "$out/$f" "$WORK/$name.first/$f" || fail "$name: $f differs between two runs"
	done

	# The written config names its placeholders; filled in, it loads.
	grep -q '<MISSING_PARAM>' "$out/traffic-reproducer.yml" || fail "$name: no placeholder for the collector"
	rc=0; "$TR" -t "$out/traffic-reproducer.yml" -n >/dev/null 2>"$WORK/$name.ph" || rc=$?
	[ $rc -eq 2 ] && grep -q MISSING_PARAM "$WORK/$name.ph" || fail "$name: placeholders not reported ($rc)"

	# -p on its own output keeps every message.
	start_sink "$name-sink" "$TR" sink --listen 127.0.0.1 --tcp 0 --udp 0
	tport=$(ready_port "$WORK/$name-sink.ready" tcp)
	uport=$(ready_port "$WORK/$name-sink.ready" udp)
	fill "$out/traffic-reproducer.yml" "$tport" "$uport" >"$WORK/$name.replay.yml"
	sed "s#^pcap_processing:#pcap_processing:\n  output_folder: $WORK/$name.again#" "$WORK/$name.replay.yml" >"$WORK/$name.again.yml"
	"$TR" -p -t "$WORK/$name.again.yml" 2>"$WORK/$name.again.err" || { cat "$WORK/$name.again.err" >&2; fail "$name: -p on the output"; }
	python3 - "$out/traffic-info.json" "$WORK/$name.again/traffic-info.json" <<'PY' || fail "$name: -p on the output lost messages"
import json, sys
a, b = (json.load(open(p))["pcap_processing"]["sections"] for p in sys.argv[1:3])
for k, s in a.items():
    assert b[k]["messages_kept"] == s["messages_kept"], (k, s, b[k])
PY
	cmp -s "$out/traffic.pcap" "$WORK/$name.again/traffic.pcap" && note "$name: -p on the output: the same pcap"

	# The output replays byte-exact to the sink.
	timeout 120 "$TR" -t "$WORK/$name.replay.yml" 2>"$WORK/$name.replay.err" ||
		{ cat "$WORK/$name.replay.err" >&2; fail "$name: replay of the output exited with $?"; }
	sleep 0.3
	stop_sink
	diff <(pcap_tcp_streams "$out/traffic.pcap") <(sink_tcp_streams "$WORK/$name-sink.dump") >/dev/null ||
		fail "$name: the TCP streams at the sink differ from the output pcap"
	diff <(tshark -r "$out/traffic.pcap" -Y udp -T fields -e udp.payload 2>/dev/null) \
		<(awk '$1 == "udp" { print $5 }' "$WORK/$name-sink.dump") >/dev/null ||
		fail "$name: the datagrams at the sink differ from the output pcap"
	note "$name: replayed byte-exact: $(grep -c '^tcp' "$WORK/$name-sink.dump" || true) TCP messages, $(grep -c '^udp' "$WORK/$name-sink.dump" || true) datagrams"
done
