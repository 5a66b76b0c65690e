#!/usr/bin/env bash
# End to end with real sFlow: pmacctd's sfprobe turns a generated capture into sFlow v5,
# captured on loopback by tcpdump. That capture then:
#   - --info recognises it as sFlow by content and counts its datagrams, flow and counters
#     samples and sequence errors as tshark does;
#   - replays byte-exact to the built-in sink (one play, settings as captured), whose sFlow
#     counts are tshark's; played twice as captured, each agent's restart is a sequence error;
#   - -p drops a datagram that is not sFlow v5, keeps the others byte for byte, and its config
#     keeps the section's settings;
#   - repeated twice with agent_address: repro_ip, decodes at sfacctd (print plugin) as
#     exactly twice what sfacctd decodes from the capture itself (pcap_savefile), with the
#     repro_ip as the exporter (peer_src_ip);
#   - the repeat's datagram, flow and counters sample sequence numbers, read by tshark from what
#     arrived, go on by one across the two plays (neither collector checks them);
#   - sfcapd (nfdump-sflow) counts twice the capture's flow samples, when installed.
. "$(dirname "$0")/../lib.sh"

for cmd in pmacctd sfacctd tcpdump tshark python3; do
	command -v "$cmd" >/dev/null || skip "$cmd is not installed (make test-deps)"
done
[ "$(id -u)" -eq 0 ] || skip "tcpdump on loopback needs root"
if [ ! -x "$TR" ] || [ ! -x "$GEN" ]; then fail "$TR and $GEN must be built first"; fi

# ---- an sFlow capture, made by pmacctd's sfprobe ------------------------------------------
"$GEN" --proto udp --count 400 --exporter 192.0.2.1 --exporter 192.0.2.2 --out "$WORK/traffic.pcap" ||
	fail "tr-pcapgen failed"
PROBE_PORT=$(free_port udp)
AGENT=192.0.2.77
cat >"$WORK/probe.conf" <<CONF
daemonize: false
pcap_savefile: $WORK/traffic.pcap
pcap_savefile_wait: false
plugins: sfprobe
sfprobe_receiver: 127.0.0.1:$PROBE_PORT
sfprobe_agentip: $AGENT
sampling_rate: 1
CONF
tcpdump -i lo -U -w "$WORK/sflow.pcap" "udp and dst port $PROBE_PORT" 2>"$WORK/tcpdump.log" &
DUMP=$!
cleanup_hooks+=('kill $DUMP 2>/dev/null')
for _ in $(seq 1 50); do grep -q "listening on" "$WORK/tcpdump.log" && break; sleep 0.1; done
timeout 30 pmacctd -f "$WORK/probe.conf" >"$WORK/probe.log" 2>&1 || true
sleep 1
kill -INT $DUMP; wait $DUMP 2>/dev/null || true
DATAGRAMS=$(tshark -r "$WORK/sflow.pcap" 2>/dev/null | wc -l)
# samples KIND: how many flow or counters samples the capture holds, by tshark.
samples() {
	tshark -r "$WORK/sflow.pcap" -d "udp.port==$PROBE_PORT,sflow" -T fields \
		-e "sflow.$1_sample.sequence_number" 2>/dev/null | tr ',' '\n' | grep -c .
}
SAMPLES=$(samples flow || true)
COUNTERS=$(samples counters || true)
[ "$DATAGRAMS" -gt 10 ] && [ "$SAMPLES" -gt 100 ] ||
	{ cat "$WORK/probe.log"; fail "sfprobe made $DATAGRAMS datagrams, $SAMPLES flow samples"; }
note "sfprobe: $DATAGRAMS sFlow datagrams, $SAMPLES flow samples, $COUNTERS counters samples"
# What tshark reads of the capture's datagram sequence: the datagrams out of sequence, per agent
# and sub-agent (sfprobe sends none, but the count comes from tshark, not from us).
SEQ_ERRORS=$(tshark -r "$WORK/sflow.pcap" -d "udp.port==$PROBE_PORT,sflow" -T fields \
	-e sflow_245.agent -e sflow_245.agent.v6 -e sflow_245.sub_agent_id -e sflow_245.sequence_number \
	2>/dev/null | awk -F'\t' '{ k = $1 $2 "/" $3 } k in last && $4 != last[k] + 1 { n++ } { last[k] = $4 }
	END { print n + 0 }')

# sflow_counts FILE JSON-PATH: "DATAGRAMS FLOW COUNTERS SEQUENCE-ERRORS MALFORMED" of the sflow objects at
# JSON-PATH (a Python expression over d yielding them), summed.
sflow_counts() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
objs = [o for o in eval(sys.argv[2], {"d": d}) if o is not None]
print(sum(o["datagrams"] for o in objs), sum(o["samples"]["flow"] for o in objs),
      sum(o["samples"]["counters"] for o in objs),
      sum(a["sequence_errors"] for o in objs for a in o["agents"]),
      sum(o["malformed"] for o in objs))' "$1" "$2"
}
EXPECTED_COUNTS="$DATAGRAMS $SAMPLES $COUNTERS $SEQ_ERRORS 0"

# ---- --info recognises the capture as sFlow by content, and counts as tshark does ----------
"$TR" --info "$WORK/sflow.pcap" >"$WORK/info.json" 2>"$WORK/info.err" ||
	{ cat "$WORK/info.err"; fail "--info: exit $?"; }
got=$(sflow_counts "$WORK/info.json" '[e["sflow"] for e in d["exporters"]]')
[ "$got" = "$EXPECTED_COUNTS" ] ||
	fail "--info: sflow datagrams, flow and counters samples, sequence errors, malformed: $got; tshark: $EXPECTED_COUNTS"
[ "$(json_get "$WORK/info.json" 'sum(e["udp_generic"]["packets"] for e in d["exporters"])')" = 0 ] ||
	fail "--info: some of the capture's sFlow datagrams are counted as generic UDP"
[ "$(json_get "$WORK/info.json" '[a["agent"] for e in d["exporters"] if e["sflow"] for a in e["sflow"]["agents"]]')" = "['$AGENT']" ] ||
	fail "--info: the agents are not sfprobe's $AGENT alone"
note "--info: $got (datagrams, flow and counters samples, sequence errors, malformed), as tshark"

# config NAME PORT EXTRA...: a replay config of the capture to 127.0.0.1:PORT.
config() {
	local name=$1 port=$2 line; shift 2
	{
		printf 'pcap: %s\ntime_factor: 0\nno_sync: true\nnetwork:\n  map:\n' "$WORK/sflow.pcap"
		printf '  - {src_ip: 127.0.0.1, repro_ip: 127.0.0.9}\n'
		printf 'sflow:\n  select: {udp: {dport: [%s]}, sflow_h: {agent: [%s]}}\n' "$PROBE_PORT" "$AGENT"
		printf '  collector: {ip: 127.0.0.1, port: %s}\n' "$port"
		for line in "$@"; do printf '%s\n' "$line"; done
	} >"$WORK/$name.yml"
}

# ---- byte-exact, one play, as captured ----------------------------------------------------
start_sink sink "$TR" sink --udp 0
SINK_PORT=$(ready_port "$WORK/sink.ready" udp)
config exact "$SINK_PORT"
"$TR" -t "$WORK/exact.yml" --stats-json "$WORK/exact.stats.json" 2>"$WORK/exact.log" ||
	{ cat "$WORK/exact.log"; fail "exact: exit $?"; }
stop_sink
tshark_udp_payloads "$WORK/sflow.pcap" "$PROBE_PORT" | awk '{ print $2 }' >"$WORK/exact.expected"
sink_udp_payloads "$WORK/sink.dump" "$SINK_PORT" | awk '{ print $2 }' >"$WORK/exact.got"
cmp -s "$WORK/exact.expected" "$WORK/exact.got" ||
	fail "exact: $(wc -l <"$WORK/exact.got") datagrams arrived, not the $(wc -l <"$WORK/exact.expected") captured byte for byte"
note "one play: $DATAGRAMS datagrams byte-exact at the sink"
got=$(sflow_counts "$WORK/sink.json" "[u['sflow'] for u in d['udp'] if u['port'] == $SINK_PORT]")
[ "$got" = "$EXPECTED_COUNTS" ] ||
	fail "sink: sflow datagrams, flow and counters samples, sequence errors, malformed: $got; tshark: $EXPECTED_COUNTS"
note "sink: decodes $got (datagrams, flow and counters samples, sequence errors, malformed), as tshark"

# Played twice as captured, each agent's sequence starts over once: one sequence error per agent
# and sub-agent (tshark's count) more than twice the capture's.
AGENTS=$(tshark -r "$WORK/sflow.pcap" -d "udp.port==$PROBE_PORT,sflow" -T fields -e sflow_245.agent \
	-e sflow_245.agent.v6 -e sflow_245.sub_agent_id 2>/dev/null | sort -u | grep -c .)
start_sink sink2 "$TR" sink --udp 0
config twice "$(ready_port "$WORK/sink2.ready" udp)" "  sequence: as-captured"
sed -i 's/^time_factor: 0$/time_factor: 0\nrepeat: {count: 2}/' "$WORK/twice.yml"
"$TR" -t "$WORK/twice.yml" 2>"$WORK/twice.log" || { cat "$WORK/twice.log"; fail "twice: exit $?"; }
stop_sink
got=$(sflow_counts "$WORK/sink2.json" '[u["sflow"] for u in d["udp"]]')
want="$((2 * DATAGRAMS)) $((2 * SAMPLES)) $((2 * COUNTERS)) $((2 * SEQ_ERRORS + AGENTS)) 0"
[ "$got" = "$want" ] || fail "sink, two plays as captured: $got; expected from tshark: $want"
note "sink, two plays as captured: $got (the restart of $AGENTS agent(s) counted as sequence errors)"

# ---- -p: the sFlow section cleaned (sFlow v5 only) and retimed, its datagrams byte for byte --
# A datagram that is not sFlow, sent to the same port, is the one -p must drop.
python3 - "$WORK/sflow.pcap" "$WORK/dirty.pcap" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
head, rec = data[:24], data[24:]
assert struct.unpack("<I", head[:4])[0] == 0xa1b2c3d4, "tcpdump writes little-endian pcap"
incl = struct.unpack("<I", rec[8:12])[0]
frame = bytearray(rec[16:16 + incl])
# The first frame again, before the others, with its UDP payload's first word (the version)
# made 4: not sFlow v5.  Link types: Ethernet, Linux cooked (SLL) or SLL2.
link = {1: 14, 113: 16, 276: 20}[struct.unpack("<I", head[20:24])[0]]
ihl = (frame[link] & 0xf) * 4
frame[link + ihl + 8 + 3] = 4
frame[link + ihl + 6:link + ihl + 8] = b"\0\0"	# no UDP checksum
open(sys.argv[2], "wb").write(head + rec[:16] + bytes(frame) + rec)
PY
# Without sflow_h, which would drop it first (it names no agent).
sed -e "s|^pcap: .*|pcap: $WORK/dirty.pcap|" -e 's|, sflow_h: {agent: \[[^]]*\]}||' \
	"$WORK/exact.yml" >"$WORK/pp.yml"
printf '  agent_address: repro_ip\npcap_processing:\n  output_folder: %s\n' "$WORK/pp" >>"$WORK/pp.yml"
mkdir -p "$WORK/pp"
"$TR" -p -t "$WORK/pp.yml" 2>"$WORK/pp.log" || { cat "$WORK/pp.log"; fail "-p: exit $?"; }
[ "$(json_get "$WORK/pp/traffic-info.json" 'd["pcap_processing"]["sections"]["sflow"]["dropped_malformed"]')" = 1 ] ||
	fail "-p: the datagram that is not sFlow v5 was not the one dropped"
tshark_udp_payloads "$WORK/pp/traffic.pcap" "$PROBE_PORT" | awk '{ print $2 }' >"$WORK/pp.got"
cmp -s "$WORK/exact.expected" "$WORK/pp.got" ||
	fail "-p: $(wc -l <"$WORK/pp.got") datagrams written, not the $(wc -l <"$WORK/exact.expected") sFlow ones captured byte for byte"
got=$(sflow_counts "$WORK/pp/traffic-info.json" '[e["sflow"] for e in d["exporters"]]')
[ "$got" = "$EXPECTED_COUNTS" ] || fail "-p: its summary counts $got; tshark: $EXPECTED_COUNTS"
grep -qx '  agent_address: repro_ip' "$WORK/pp/traffic-reproducer.yml" ||
	fail "-p: the written config lost the section's agent_address"
note "-p: the datagram that is not sFlow dropped, the $DATAGRAMS sFlow ones kept byte for byte"

# ---- sfacctd: the capture decoded by itself, then the repeated replay ---------------------
# sfacctd_conf NAME SOURCE-LINES: a print plugin writing every purge's CSV into NAME.csv.
sfacctd_conf() {
	cat >"$WORK/$1.conf" <<CONF
daemonize: false
plugins: print
aggregate: peer_src_ip, src_host, dst_host, src_port, dst_port, proto
print_output: csv
print_output_file: $WORK/$1.csv
print_output_file_append: true
print_refresh_time: 1
$2
CONF
}
# totals NAME: "PEER SRC DST SPORT DPORT PROTO PACKETS BYTES" per key, summed over the purges.
totals() {
	grep -v '^PEER_SRC_IP' "$WORK/$1.csv" | awk -F, '{ k = $1 " " $2 " " $3 " " $4 " " $5 " " $6
		p[k] += $7; b[k] += $8 } END { for (k in p) print k, p[k], b[k] }' | sort
}
sfacctd_conf decode "pcap_savefile: $WORK/sflow.pcap
pcap_savefile_wait: false"
timeout 30 sfacctd -f "$WORK/decode.conf" >"$WORK/decode.log" 2>&1 || true
[ -s "$WORK/decode.csv" ] || { tail "$WORK/decode.log"; fail "sfacctd decoded nothing from the capture"; }
totals decode | awk -v a="$AGENT" '$1 == a { $1 = "127.0.0.9"; $7 *= 2; $8 *= 2; print }' >"$WORK/live.expected"
[ -s "$WORK/live.expected" ] || fail "sfacctd's decode of the capture names no flow of agent $AGENT"

LIVE_PORT=$(free_port udp)
# A 4 MiB socket buffer: with the default, sfacctd drops part of the burst in the kernel.
sfacctd_conf live "sfacctd_ip: 127.0.0.1
sfacctd_port: $LIVE_PORT
sfacctd_pipe_size: 4194304"
sfacctd -f "$WORK/live.conf" >"$WORK/live.log" 2>&1 &
SFA=$!
cleanup_hooks+=('kill $SFA 2>/dev/null')
for _ in $(seq 1 50); do ss -Hlun "sport = :$LIVE_PORT" | grep -q . && break; sleep 0.1; done
tcpdump -i lo -U -w "$WORK/repeat.pcap" "udp and dst port $LIVE_PORT" 2>"$WORK/tcpdump2.log" &
DUMP=$!
for _ in $(seq 1 50); do grep -q "listening on" "$WORK/tcpdump2.log" && break; sleep 0.1; done
# A small time factor: sfacctd's socket buffer takes the capture at this pace.
config repeat "$LIVE_PORT" "  agent_address: repro_ip"
sed -i 's/^time_factor: 0$/time_factor: 0.2\nrepeat: {count: 2}/' "$WORK/repeat.yml"
"$TR" -t "$WORK/repeat.yml" --stats-json "$WORK/repeat.stats.json" 2>"$WORK/repeat.log" ||
	{ cat "$WORK/repeat.log"; fail "repeat: exit $?"; }
# sfacctd's print plugin writes a purge a second: wait until they hold every packet sent
# (at most 20 s), then stop it.
want=$(awk '{ n += $7 } END { print n + 0 }' "$WORK/live.expected")
for _ in $(seq 1 200); do
	[ "$( (totals live 2>/dev/null || true) | awk '{ n += $7 } END { print n + 0 }')" -ge "$want" ] && break
	sleep 0.1
done
kill -INT $SFA; wait $SFA 2>/dev/null || true
kill -INT $DUMP; wait $DUMP 2>/dev/null || true
totals live >"$WORK/live.got"
diff "$WORK/live.expected" "$WORK/live.got" ||
	fail "sfacctd's decode of the repeated replay is not twice its decode of the capture (< expected, > got)"
note "sfacctd: $(wc -l <"$WORK/live.got") flows, each twice the capture's packets and bytes, from the repro_ip"

# ---- sequence numbers go on across the repeat (tshark reads what arrived) -----------------
tshark -r "$WORK/repeat.pcap" -d "udp.port==$LIVE_PORT,sflow" -T fields \
	-e sflow_245.agent -e sflow_245.sequence_number -e sflow.flow_sample.sequence_number \
	-e sflow.counters_sample.sequence_number 2>/dev/null |
	python3 -c '
import sys
# Fields are tab-separated; an empty one means no sample of that kind in the datagram.
# sfprobe has one data source: each kind of sample numbers on its own.
dgrams, counts, last = 0, [0, 0], [None, None, None]
for line in sys.stdin:
    f = line.rstrip("\n").split("\t")
    if len(f) < 2 or not f[1]:
        continue
    if f[0] != sys.argv[1]:
        sys.exit("agent %s, not the repro_ip" % f[0])
    seqs = [[f[1]]] + [[s for s in x.split(",") if s] for x in (f + ["", ""])[2:4]]
    for kind, values in enumerate(seqs):
        for v in map(int, values):
            if last[kind] is not None and v != last[kind] + 1:
                sys.exit("%s sequence %d after %d" %
                    (("datagram", "flow sample", "counters sample")[kind], v, last[kind]))
            last[kind] = v
            if kind > 0:
                counts[kind - 1] += 1
    dgrams += 1
want = [2 * int(a) for a in sys.argv[2:5]]
if [dgrams] + counts != want:
    sys.exit("%d datagrams, %d flow and %d counters samples arrived; %d, %d and %d expected" %
        tuple([dgrams] + counts + want))
print("%d datagrams, %d flow and %d counters samples: sequences go on by one" % (dgrams, counts[0], counts[1]))
' 127.0.0.9 "$DATAGRAMS" "$SAMPLES" "$COUNTERS" >"$WORK/seq.check" 2>&1 ||
	{ cat "$WORK/seq.check"; fail "repeat: sequence numbers"; }
note "repeat: $(cat "$WORK/seq.check")"

# ---- sfcapd ---------------------------------------------------------------------------------
if command -v sfcapd >/dev/null && command -v nfdump >/dev/null; then
	CAP_PORT=$(free_port udp)
	mkdir -p "$WORK/sfcapd"
	# A 4 MiB socket buffer, as for sfacctd: with the default, a loaded machine
	# drops part of the burst in the kernel (seen: 660 of 798 flows).
	sfcapd -b 127.0.0.1 -p "$CAP_PORT" -B 4194304 -w "$WORK/sfcapd" -t 3600 >"$WORK/sfcapd.log" 2>&1 &
	SFC=$!
	cleanup_hooks+=('kill $SFC 2>/dev/null')
	for _ in $(seq 1 50); do ss -Hlun "sport = :$CAP_PORT" | grep -q . && break; sleep 0.1; done
	config sfcapd "$CAP_PORT" "  agent_address: repro_ip"
	sed -i 's/^time_factor: 0$/time_factor: 0.2\nrepeat: {count: 2}/' "$WORK/sfcapd.yml"
	"$TR" -t "$WORK/sfcapd.yml" 2>"$WORK/sfcapd-replay.log" || { cat "$WORK/sfcapd-replay.log"; fail "sfcapd: exit $?"; }
	sleep 1
	kill -INT $SFC; wait $SFC 2>/dev/null || true
	flows=$(nfdump -I -r "$(ls "$WORK"/sfcapd/nfcapd.* | head -1)" 2>/dev/null | awk '/^Flows:/ { print $2 }')
	[ "$flows" = $((2 * SAMPLES)) ] || fail "sfcapd counts $flows flows, $((2 * SAMPLES)) expected"
	note "sfcapd: $flows flows = twice the capture's flow samples"
else
	note "sfcapd (nfdump-sflow) is not installed: its round is left out"
fi
echo PASS
