#!/usr/bin/env bash
# generate: a spec's capture is the same bytes on every run, its replay config loads as
# written, and real collectors (nfacctd, nfcapd) decode from its replay exactly the flow
# records the spec's own oracle (--expect, arithmetic on the spec, not the encoder) asks
# for, per exporter.  Then 10,000 routers (TR_GEN_ROUTERS) replayed to nfacctd.
. "$(dirname "$0")/../lib.sh"

command -v python3 >/dev/null || skip "python3 is not installed"
[ -x "$TR" ] || fail "$TR must be built first"
COLLECTORS=$TR_SOURCE_DIR/tests/e2e/collectors
. "$COLLECTORS/flowcoll.sh"
COUNT=(python3 "$TR_SOURCE_DIR/tests/e2e/gen_count.py")
SMALL=$TR_SOURCE_DIR/examples/generate/ipfix-small.yml

# spec_for NAME SRC PORT: SRC with the collector's port set to PORT, as $WORK/NAME.spec.yml.
spec_for() {
	sed "/^collector: /s/port: [0-9]*}/port: $3}/" "$2" >"$WORK/$1.spec.yml"
	grep -q "port: $3}" "$WORK/$1.spec.yml" || fail "$1: could not set the collector port in $2"
}

# Determinism: two runs, the same bytes; the config loads as written (-n).
"$TR" generate -t "$SMALL" -o "$WORK/a.pcap" --expect >"$WORK/a.expect" 2>"$WORK/a.err" ||
	{ cat "$WORK/a.err" >&2; fail "generate failed"; }
"$TR" generate -t "$SMALL" -o "$WORK/b.pcap" 2>"$WORK/b.err" || { cat "$WORK/b.err" >&2; fail "generate failed"; }
cmp "$WORK/a.pcap" "$WORK/b.pcap" || fail "the same spec gave different captures"
"$TR" -n -t "$WORK/a.yml" >/dev/null 2>"$WORK/a.n.err" ||
	{ cat "$WORK/a.n.err" >&2; fail "the replay refuses the config generate wrote"; }
sent=$(json_get "$WORK/a.expect" 'd["total"]["messages"]')
frames=$(tshark -r "$WORK/a.pcap" -T fields -e frame.number 2>/dev/null | wc -l)
[ "$frames" -eq "$sent" ] || fail "the capture has $frames frames, the oracle says $sent messages"
note "same bytes twice; $sent datagrams, as the oracle says; OUT.yml loads"

# A spec that is wrong leaves no file behind and names the key.
printf 'duration: 5\ncollector: {ip: 127.0.0.1, port: 9}\nexporters: {count: 2, address: 192.0.2.1}\nipfix: {rate: 3, templates: [{fields: [sourceIPv4Addres]}]}\n' >"$WORK/bad.yml"
if "$TR" generate -t "$WORK/bad.yml" -o "$WORK/bad.pcap" 2>"$WORK/bad.err"; then fail "a bad spec was taken"; fi
grep -q "bad.yml:4:.*ipfix.templates\[0\].fields\[0\]: unknown information element 'sourceIPv4Addres'" "$WORK/bad.err" ||
	fail "unexpected message for a bad spec: $(cat "$WORK/bad.err")"
[ ! -e "$WORK/bad.pcap" ] && [ ! -e "$WORK/bad.yml.yml" ] || fail "a bad spec left files behind"
! ls -A "$WORK" | grep -q '^\.bad' || fail "temporary files left behind: $(ls -A "$WORK" | grep '^\.bad')"

# An output whose config would be the spec itself is refused, the spec left as it was.
cp "$SMALL" "$WORK/self.yml"
if "$TR" generate -t "$WORK/self.yml" -o "$WORK/self.pcap" 2>"$WORK/self.err"; then fail "generate overwrote its spec"; fi
grep -q "would overwrite the spec" "$WORK/self.err" || fail "unexpected message: $(cat "$WORK/self.err")"
cmp -s "$SMALL" "$WORK/self.yml" || fail "the spec was changed"

# collector_round NAME KIND SPEC [TIME_FACTOR]: generate SPEC for a fresh KIND collector, replay
# OUT.yml as written (with TIME_FACTOR if given), compare the decode per exporter with the oracle.
collector_round() {
	local name=$1 kind=$2 src=$3 tf=${4:-} addr
	addr=$(sed -n 's/^collector: {ip: "\{0,1\}\([^",]*\)"\{0,1\},.*/\1/p' "$src")
	# nfacctd logs every datagram (debug, which fc_drain counts): a 4 MiB socket buffer
	# (rmem_max here) holds a burst while it writes; a 64 MiB pipe to its print plugin
	# keeps 250,000 records on a busy machine (with the default 4 MB it lost some: "Missing
	# data detected", which the round reports as the collector's loss).
	if [ "$kind" = nfacctd ]; then
		fc_listen "$name" "$kind" "$addr" "nfacctd_pipe_size: 4194304" \
			"plugin_pipe_size[flows]: 67108864" "plugin_buffer_size[flows]: 8192"
	else
		fc_listen "$name" "$kind" "$addr"
	fi
	spec_for "$name" "$src" "$FC_PORT"
	"$TR" generate -t "$WORK/$name.spec.yml" -o "$WORK/$name.pcap" --expect >"$WORK/$name.expect" \
		2>"$WORK/$name.gen.err" || { cat "$WORK/$name.gen.err" >&2; fail "$name: generate failed"; }
	[ -z "$tf" ] || sed -i "s/^time_factor: .*/time_factor: $tf/" "$WORK/$name.yml"
	timeout 300 "$TR" -t "$WORK/$name.yml" --stats-json "$WORK/$name.stats.json" 2>"$WORK/$name.tr.log" ||
		{ tail -n 20 "$WORK/$name.tr.log" >&2; fail "$name: replay exited with $?"; }
	sent=$(json_get "$WORK/$name.stats.json" 'd["sections"]["ipfix"]["sent"]')
	[ "$sent" -eq "$(json_get "$WORK/$name.expect" 'd["total"]["messages"]')" ] ||
		fail "$name: the replay sent $sent datagrams, the oracle says $(json_get "$WORK/$name.expect" 'd["total"]["messages"]')"
	fc_drain "$name" "$sent"
	fc_stop "$name"
	! grep -q "Missing data detected" "$WORK/$name.log" ||
		fail "$name: nfacctd lost records between its core and its print plugin (overloaded machine?); no decode to compare"
	"${COUNT[@]}" "$WORK/$name.expect" "$FC_KIND" "$WORK/$name.json" ||
		fail "$name: $kind decoded other flow counts than the spec's oracle"
	note "$name: $kind decoded the oracle's $(json_get "$WORK/$name.expect" 'd["total"]["flows"]') flow records from $(json_get "$WORK/$name.expect" 'd["exporters"]') exporters"
}

if command -v nfacctd >/dev/null; then
	collector_round small-nfacctd nfacctd "$SMALL" 0
else
	note "nfacctd (pmacct) is not installed: its round skipped"
fi
if command -v nfcapd >/dev/null; then
	collector_round small-nfcapd nfcapd "$SMALL" 0.1
else
	note "nfcapd (nfdump) is not installed: its round skipped"
fi

# IPv6 exporters (IPv6 records, pools of two prefixes) when this host has an IPv6 loopback.
if command -v nfacctd >/dev/null &&
	python3 -c 'import socket; socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).bind(("::1", 0))' 2>/dev/null; then
	cat >"$WORK/v6.src.yml" <<-'EOF'
	seed: 6
	duration: 3
	collector: {ip: "::1", port: 4739}
	exporters: {count: 3, address: "2001:db8::10", domains: [5]}
	ipfix:
	  rate: 20
	  templates:
	    - fields: [sourceIPv6Address, destinationIPv6Address, sourceTransportPort, destinationTransportPort,
	               protocolIdentifier, octetDeltaCount, packetDeltaCount, flowStartMilliseconds, flowEndMilliseconds]
	netflow_v9:
	  rate: 10
	  templates:
	    - fields: [{sourceIPv6Address: {pool: ["2001:db8:aa::/48", "2001:db8:bb::/120"]}}, destinationIPv6Address,
	               octetDeltaCount, flowStartSysUpTime, flowEndSysUpTime]
	EOF
	collector_round v6-nfacctd nfacctd "$WORK/v6.src.yml" 0
else
	note "no nfacctd or no IPv6 loopback: IPv6 exporters not tested"
fi

# Many routers: the example's 10,000 (TR_GEN_ROUTERS to change the count) to nfacctd.
if command -v nfacctd >/dev/null; then
	ROUTERS=${TR_GEN_ROUTERS:-10000}
	sed "s/count: 10000/count: $ROUTERS/" "$TR_SOURCE_DIR/examples/generate/ipfix-10k-routers.yml" >"$WORK/routers.src.yml"
	# At half the capture's pace (time_factor 2: 7,000 datagrams/s, not 14,000): nfacctd logs a
	# line per datagram, and on a busy machine its 4 MiB socket buffer overflowed at full pace.
	collector_round routers nfacctd "$WORK/routers.src.yml" 2
fi
echo "PASS"
