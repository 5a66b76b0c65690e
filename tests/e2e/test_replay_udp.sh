#!/usr/bin/env bash
# End to end: generated captures replayed to the built-in sink arrive byte-exact,
# in order, from the mapped source address; unselected and unmapped ones do not.
. "$(dirname "$0")/../lib.sh"

command -v tshark >/dev/null || skip "tshark is not installed (make test-deps)"

start_sink sink "$TR" sink --udp 0 --udp 0
PORT=$(ready_port "$WORK/sink.ready" udp 1)
PORT2=$(ready_port "$WORK/sink.ready" udp 2)

# write_config FILE PCAP... : ipfix section to $PORT (dport 4739), udp_generic to $PORT2 (dport 5000).
write_config() {
	local out=$1; shift
	{
		echo "pcap:"
		for p in "$@"; do echo "  - $p"; done
		cat <<YAML
time_factor: 0
no_sync: true
network:
  map:
  - src_ip: 192.0.2.1
    repro_ip: 127.0.0.2
  - src_ip: 2001:db8::1
    repro_ip: ::1
  - src_ip: 192.0.2.7
    repro_ip: 127.0.0.7
ipfix:
  select:
    udp:
      dport: [4739]
  collector:
    ip: localhost
    port: $PORT
  # Byte-exact checks: a list would otherwise continue sequence numbers.
  sequence: as-captured
udp_generic:
  select:
    udp:
      dport: [5000]
  collector:
    ip: 127.0.0.1
    port: $PORT2
YAML
	} >"$out"
}

# expect_from CAPTURE DPORT: tshark's view of the capture, with captured sources mapped to repro addresses.
expect_from() {
	tshark_udp_payloads "$1" "$2" | sed -e 's/^192\.0\.2\.1 /127.0.0.2 /' \
		-e 's/^2001:db8::1 /::1 /' -e 's/^192\.0\.2\.7 /127.0.0.7 /' |
		grep -E '^(127\.0\.0\.2|::1|127\.0\.0\.7) ' || true
}

check_run() {
	local name=$1 dport=$2 port=$3; shift 3
	write_config "$WORK/$name.yml" "$@"
	: >"$WORK/sink.dump.mark"
	local before
	before=$(wc -l <"$WORK/sink.dump")
	"$TR" -t "$WORK/$name.yml" --stats-json "$WORK/$name.stats.json" 2>"$WORK/$name.log" ||
		{ cat "$WORK/$name.log"; fail "$name: replay exited with $?"; }
	for pcap in "$@"; do expect_from "$pcap" "$dport"; done >"$WORK/$name.expected"
	[ -s "$WORK/$name.expected" ] || fail "$name: the oracle found no datagrams"
	# Datagrams arrive asynchronously: give the sink a moment to drain its socket.
	for _ in $(seq 1 50); do
		tail -n +"$((before + 1))" "$WORK/sink.dump" | sink_udp_payloads /dev/stdin "$port" >"$WORK/$name.got"
		[ "$(wc -l <"$WORK/$name.got")" -ge "$(wc -l <"$WORK/$name.expected")" ] && break
		sleep 0.1
	done
	# Per exporter, the datagrams must be exactly the expected ones in capture order.
	for ex in 127.0.0.2 ::1 127.0.0.7; do
		diff <(grep "^$ex " "$WORK/$name.expected" || true) <(grep "^$ex " "$WORK/$name.got" || true) >"$WORK/$name.diff" ||
			{ head -20 "$WORK/$name.diff"; fail "$name: datagrams from $ex differ from the capture"; }
	done
	[ "$(wc -l <"$WORK/$name.got")" -eq "$(wc -l <"$WORK/$name.expected")" ] ||
		fail "$name: $(wc -l <"$WORK/$name.got") datagrams arrived, $(wc -l <"$WORK/$name.expected") expected"
	note "$name: $(wc -l <"$WORK/$name.got") datagrams byte-exact"
}

# 1. IPFIX from an IPv4 and an IPv6 exporter, one unmapped exporter, and noise.
"$GEN" --proto ipfix --count 40 --exporter 192.0.2.1 --exporter 2001:db8::1 \
	--exporter 192.0.2.99 --dport 4739 --noise --out "$WORK/ipfix.pcap"
check_run ipfix 4739 "$PORT" "$WORK/ipfix.pcap"
unknown=$(json_get "$WORK/ipfix.stats.json" 'd["unknown_peer"]')
unmapped=$(tshark -r "$WORK/ipfix.pcap" -Y 'ip.src == 192.0.2.99 && udp.dstport == 4739' 2>/dev/null | wc -l)
[ "$unknown" -eq "$unmapped" ] && [ "$unmapped" -gt 0 ] ||
	fail "stats say $unknown unknown-peer packets, the capture has $unmapped"

# The summary counts flow messages per version and domain, and template vs data
# sets: they must equal tshark's decode of what the mapped exporters sent.
tshark -r "$WORK/ipfix.pcap" -Y 'udp.dstport == 4739 && !(ip.src == 192.0.2.99)' -T fields \
	-e cflow.od_id -e cflow.flowset_id 2>/dev/null >"$WORK/ipfix.sets"
python3 - "$WORK/ipfix.stats.json" "$WORK/ipfix.sets" <<'PY' || fail "ipfix: flow counts in --stats-json differ from tshark's"
import json, sys
from collections import Counter
flows = json.load(open(sys.argv[1]))["flows"]
want = Counter()
for line in open(sys.argv[2]):
    domain, sets = line.split("\t")
    ids = [int(x) for x in sets.split(",")]
    want[(10, int(domain), "messages")] += 1
    want[(10, int(domain), "template_sets")] += sum(1 for i in ids if i in (2, 3))
    want[(10, int(domain), "data_sets")] += sum(1 for i in ids if i >= 256)
got = Counter()
for d in flows["domains"]:
    for k in ("messages", "template_sets", "data_sets"):
        got[(d["version"], d["domain"], k)] += d[k]
if got != want or not want:
    sys.exit(f"stats {dict(got)} != tshark {dict(want)}")
if flows["templates_primed"] or flows["sequence_rewritten"] or flows["malformed"]:
    sys.exit(f"a clean single capture needs no rewrite: {flows}")
PY

# 2. Encapsulations: stacked VLANs + MPLS on Ethernet, Linux SLL2, raw IP, BSD loopback.
"$GEN" --proto nfv9 --count 12 --exporter 192.0.2.1 --dport 4739 --vlan 10 --vlan 20 --mpls 100 --mpls 200 --out "$WORK/vlan-mpls.pcap"
check_run vlan-mpls 4739 "$PORT" "$WORK/vlan-mpls.pcap"
for link in sll sll2 raw null; do
	"$GEN" --proto nfv5 --count 6 --exporter 192.0.2.1 --exporter 2001:db8::1 --dport 4739 --link $link --out "$WORK/$link.pcap"
	check_run "link-$link" 4739 "$PORT" "$WORK/$link.pcap"
done

# 3. IP fragments (IPFIX datagrams larger than the MTU), IPv4 and IPv6, nanosecond capture.
"$GEN" --proto ipfix --count 10 --records 60 --exporter 192.0.2.1 --exporter 2001:db8::1 --dport 4739 --fragment 512 --nanosec --out "$WORK/frag.pcap"
check_run fragments 4739 "$PORT" "$WORK/frag.pcap"
reass=$(json_get "$WORK/fragments.stats.json" 'd["frames"]["reassembled"]')
[ "$reass" -gt 0 ] || fail "the fragmented capture reported no reassembly"

# 4. Generic UDP goes to its own section's collector.
"$GEN" --proto udp --count 25 --exporter 192.0.2.7 --dport 5000 --out "$WORK/udp.pcap"
check_run udp-generic 5000 "$PORT2" "$WORK/udp.pcap"

# 5. A list with repeats (round-robin [1,2]): file A, B, B in that order.
"$GEN" --proto ipfix --count 3 --exporter 192.0.2.1 --dport 4739 --start 1700000100 --out "$WORK/a.pcap"
"$GEN" --proto nfv9 --count 4 --exporter 192.0.2.1 --dport 4739 --start 1700000200 --out "$WORK/b.pcap"
write_config "$WORK/repeat.yml" "$WORK/a.pcap" "$WORK/b.pcap"
printf 'repeat:\n  count: [1, 2]\n  pattern: round-robin\n' >>"$WORK/repeat.yml"
before=$(wc -l <"$WORK/sink.dump")
"$TR" -t "$WORK/repeat.yml" 2>"$WORK/repeat.log" || { cat "$WORK/repeat.log"; fail "repeat: exit $?"; }
{ expect_from "$WORK/a.pcap" 4739; expect_from "$WORK/b.pcap" 4739; expect_from "$WORK/b.pcap" 4739; } >"$WORK/repeat.expected"
sleep 0.3
tail -n +"$((before + 1))" "$WORK/sink.dump" | sink_udp_payloads /dev/stdin "$PORT" >"$WORK/repeat.got"
diff "$WORK/repeat.expected" "$WORK/repeat.got" >/dev/null || fail "repeat: play order A, B, B not respected"
note "repeat: A, B, B arrived in order"

# 6. One exporter, two captured source ports (line cards): a socket each, so the
#    collector sees two transport sessions; preserve_src_port sends from the captured ports.
"$GEN" --proto ipfix --count 8 --exporter 192.0.2.1 --exporter 192.0.2.1 --dport 4739 --out "$WORK/ports.pcap"
captured_ports=$(tshark -r "$WORK/ports.pcap" -T fields -e udp.srcport 2>/dev/null | sort -u | tr '\n' ' ')
[ "$captured_ports" = "50000 50001 " ] || fail "ports: the generator wrote source ports '$captured_ports'"
for preserve in false true; do
	write_config "$WORK/ports-$preserve.yml" "$WORK/ports.pcap"
	sed -i "s/^  sequence: as-captured/  preserve_src_port: $preserve/" "$WORK/ports-$preserve.yml"
	before=$(wc -l <"$WORK/sink.dump")
	"$TR" -t "$WORK/ports-$preserve.yml" 2>"$WORK/ports-$preserve.log" ||
		{ cat "$WORK/ports-$preserve.log"; fail "ports ($preserve): exit $?"; }
	sleep 0.3
	# Each captured port's datagrams leave by one port of their own, in capture order.
	tail -n +"$((before + 1))" "$WORK/sink.dump" | awk '$1 == "udp" { print $3 }' | uniq >"$WORK/ports-$preserve.got"
	tshark -r "$WORK/ports.pcap" -T fields -e udp.srcport 2>/dev/null | uniq >"$WORK/ports.captured"
	[ "$(wc -l <"$WORK/ports-$preserve.got")" -eq "$(wc -l <"$WORK/ports.captured")" ] ||
		fail "ports ($preserve): source port changes $(wc -l <"$WORK/ports-$preserve.got") times, the capture's $(wc -l <"$WORK/ports.captured")"
	[ "$(sort -u "$WORK/ports-$preserve.got" | wc -l)" -eq 2 ] || fail "ports ($preserve): not two sockets: $(sort -u "$WORK/ports-$preserve.got" | tr '\n' ' ')"
	if [ "$preserve" = true ]; then
		diff "$WORK/ports.captured" "$WORK/ports-$preserve.got" >/dev/null ||
			fail "ports: preserve_src_port did not send from the captured ports"
	fi
done
note "ports: two captured source ports -> two sockets; preserve_src_port keeps 50000 and 50001"

stop_sink
total=$(json_get "$WORK/sink.json" 'd["totals"]["datagrams"]')
[ "$total" -eq "$(wc -l <"$WORK/sink.dump")" ] || fail "sink summary ($total) disagrees with its dump"
echo "PASS"
