#!/usr/bin/env bash
# network.spoof: exporters whose repro_ips no interface owns reach a collector in another
# namespace.  Namespace A (the replay) and B (the built-in sink) are joined by a veth pair;
# B routes 10.0.0.0/8 back through A.  10,000 IPFIX exporters (10.1.0.1 and up) with
# freebind and with raw (the exact captured source port too); 100 IPv6 ones both ways;
# 10,000 BMP sessions over TCP from 10.2.0.0/16, which A routes to itself (Linux AnyIP),
# and 100 from 2001:db8:2::/64;
# and the messages when a repro_ip is not local, the AnyIP route is missing, or the
# privilege is.
. "$(dirname "$0")/../lib.sh"
export LC_ALL=C		# one sort order for the address lists compared below

[ "$(id -u)" -eq 0 ] || skip "network namespaces, raw sockets and IP_TRANSPARENT need root"
A=tr-spa-$$ B=tr-spb-$$
ip netns add "$A" 2>/dev/null || skip "cannot create network namespaces here"
cleanup_hooks+=('ip netns del "$A" 2>/dev/null' 'ip netns del "$B" 2>/dev/null')
ip netns add "$B"
for ns in "$A" "$B"; do ip -n "$ns" link set lo up; done
ip link add "sp$$a" netns "$A" type veth peer name "sp$$b" netns "$B"
ip -n "$A" addr add 198.18.0.1/24 dev "sp$$a"
ip -n "$B" addr add 198.18.0.2/24 dev "sp$$b"
ip -n "$A" addr add 2001:db8:ff::1/64 nodad dev "sp$$a"
ip -n "$B" addr add 2001:db8:ff::2/64 nodad dev "sp$$b"
ip -n "$A" link set "sp$$a" up
ip -n "$B" link set "sp$$b" up
ip -n "$B" route add 10.0.0.0/8 via 198.18.0.1
ip -n "$B" -6 route add 2001:db8:1::/64 via 2001:db8:ff::1
# No address of A is in 10/8 or 2001:db8:1::/64: every repro_ip below is spoofed.

N=10000
cat >"$WORK/spec.yml" <<YAML
seed: 15
start: 2024-05-01T00:00:00Z
duration: 1
collector: {ip: 198.18.0.2, port: 4739}
exporters: {count: $N, address: 10.1.0.1, repro_address: 10.1.0.1, source_port: 50000}
ipfix:
  rate: 1
  templates:
    - id: 256
      fields: [sourceIPv4Address, destinationIPv4Address, octetDeltaCount]
YAML
"$TR" generate -t "$WORK/spec.yml" -o "$WORK/v4.pcap" >/dev/null 2>&1 || fail "generate failed"
grep -o 'repro_ip: "[^"]*"' "$WORK/v4.yml" | cut -d'"' -f2 | sort >"$WORK/v4.want"
[ "$(wc -l <"$WORK/v4.want")" -eq $N ] || fail "the generated config maps $(wc -l <"$WORK/v4.want") exporters, not $N"

# with_keys IN OUT NETWORK_LINE [IPFIX_LINE]: a copy of config IN with a key under network (and ipfix).
with_keys() {
	awk -v n="$3" -v s="${4:-}" '{ print } /^network:/ { print "  " n } /^ipfix:/ && s != "" { print "  " s }' "$1" >"$2"
}

# replay NAME CONFIG [PREFIX...]: replay CONFIG in A (PREFIX: e.g. setpriv), exit code in RC, log in NAME.err.
replay() {
	local name=$1 cfg=$2; shift 2
	RC=0
	ip netns exec "$A" "$@" timeout 60 "$TR" -t "$cfg" --stats-json "$WORK/$name.stats.json" \
		2>"$WORK/$name.err" || RC=$?
}

# udp_run NAME CONFIG WANT_FILE DATAGRAMS: sink in B, replay in A; the sink must have seen every
# exporter of WANT_FILE (by source address) and every datagram the replay sent.
udp_run() {
	local name=$1 cfg=$2 want=$3 seen sent got
	start_sink "$name" ip netns exec "$B" "$TR" sink --udp 4739
	replay "$name" "$cfg"
	[ $RC -eq 0 ] || { cat "$WORK/$name.err" >&2; fail "$name: replay exited with $RC"; }
	sleep 0.5
	stop_sink
	sent=$(json_get "$WORK/$name.stats.json" 'd["sections"]["ipfix"]["sent"]')
	[ "$sent" -eq "$4" ] || fail "$name: the replay sent $sent datagrams, not $4"
	got=$(json_get "$WORK/$name.json" 'd["totals"]["datagrams"]')
	[ "$got" -eq "$sent" ] || fail "$name: the collector got $got datagrams of $sent"
	awk '$1 == "udp" { print $2 }' "$WORK/$name.dump" | sort -u >"$WORK/$name.seen"
	seen=$(wc -l <"$WORK/$name.seen")
	cmp -s "$WORK/$name.seen" "$want" ||
		fail "$name: the collector saw $seen exporters, not the $(wc -l <"$want") of the map: $(comm -3 "$WORK/$name.seen" "$want" | head -3)"
	note "$name: the collector saw all $seen exporters, $got datagrams"
}

# Without spoof, a repro_ip that is not local stops the run before anything is sent.
replay plain "$WORK/v4.yml"
[ $RC -eq 2 ] && grep -q "repro_ip 10.1.0.1 is not an address of this host" "$WORK/plain.err" ||
	{ cat "$WORK/plain.err" >&2; fail "no spoof: exit $RC, not 2 with 'not an address of this host'"; }

want_dgrams=$((2 * N))	# a template message and a data message per exporter
with_keys "$WORK/v4.yml" "$WORK/fb.yml" "spoof: freebind"
udp_run freebind "$WORK/fb.yml" "$WORK/v4.want" $want_dgrams

# raw, with the captured source port kept exactly (50000 for every exporter here).
with_keys "$WORK/v4.yml" "$WORK/raw.yml" "spoof: raw" "preserve_src_port: true"
udp_run raw "$WORK/raw.yml" "$WORK/v4.want" $want_dgrams
ports=$(awk '$1 == "udp" { print $3 }' "$WORK/raw.dump" | sort -u | tr '\n' ' ')
[ "$ports" = "50000 " ] || fail "raw: source ports at the collector '$ports', not the captured 50000"
note "raw: every datagram from the captured source port 50000"
# Byte for byte: the payloads the collector got are the capture's, per exporter in order.
tshark_udp_payloads "$WORK/v4.pcap" 4739 | sort -s -k1,1 >"$WORK/raw.cap"
sink_udp_payloads "$WORK/raw.dump" 4739 | sort -s -k1,1 >"$WORK/raw.got"
cmp -s "$WORK/raw.cap" "$WORK/raw.got" || fail "raw: the collector's payloads differ from the capture's"
note "raw: payloads byte-identical to the capture's"

# IPv6: 100 exporters from 2001:db8:1::/64, both ways.
args=() map=""
for i in $(seq 1 100); do
	args+=(-e "2001:db8:1::$i")
	map+="  - {src_ip: \"2001:db8:1::$i\", repro_ip: \"2001:db8:1::$i\"}"$'\n'
done
printf '%s\n' "${args[@]}" | grep -v '^-e$' | sort >"$WORK/v6.want"
"$GEN" --proto ipfix --count 300 -C 2001:db8:ff::2 --out "$WORK/v6.pcap" "${args[@]}"
printf 'pcap: %s\ntime_factor: 0\nno_sync: true\nnetwork:\n  map:\n%sipfix:\n  collector: {ip: "2001:db8:ff::2", port: 4739}\n' \
	"$WORK/v6.pcap" "$map" >"$WORK/v6.yml"
v6_dgrams=$(tshark -r "$WORK/v6.pcap" 2>/dev/null | wc -l)
with_keys "$WORK/v6.yml" "$WORK/v6fb.yml" "spoof: freebind"
udp_run v6-freebind "$WORK/v6fb.yml" "$WORK/v6.want" "$v6_dgrams"
with_keys "$WORK/v6.yml" "$WORK/v6raw.yml" "spoof: raw"
udp_run v6-raw "$WORK/v6raw.yml" "$WORK/v6.want" "$v6_dgrams"

# Without the privileges: raw names CAP_NET_RAW; IPv4 freebind names IP_TRANSPARENT and AnyIP.
nocaps=(setpriv --bounding-set -net_raw,-net_admin --inh-caps -net_raw,-net_admin --)
if ip netns exec "$A" "${nocaps[@]}" true 2>/dev/null; then
	replay raw-nocap "$WORK/raw.yml" "${nocaps[@]}"
	[ $RC -eq 2 ] && grep -q "needs root or CAP_NET_RAW" "$WORK/raw-nocap.err" ||
		{ cat "$WORK/raw-nocap.err" >&2; fail "raw without CAP_NET_RAW: exit $RC"; }
	replay fb-nocap "$WORK/fb.yml" "${nocaps[@]}"
	[ $RC -eq 2 ] && grep -q "IP_TRANSPARENT, which needs CAP_NET_ADMIN" "$WORK/fb-nocap.err" &&
		grep -q "ip route add local 10.1.0.1/32 dev lo" "$WORK/fb-nocap.err" ||
		{ cat "$WORK/fb-nocap.err" >&2; fail "freebind without CAP_NET_ADMIN: exit $RC"; }
	note "without the privileges: the messages name CAP_NET_RAW, IP_TRANSPARENT and AnyIP"
	# With an AnyIP route, freebind needs no privilege.
	ip -n "$A" route add local 10.1.0.0/16 dev lo
	start_sink fb-anyip ip netns exec "$B" "$TR" sink --udp 4739
	replay fb-anyip "$WORK/fb.yml" "${nocaps[@]}"
	[ $RC -eq 0 ] || { cat "$WORK/fb-anyip.err" >&2; fail "freebind over AnyIP without privileges: exit $RC"; }
	sleep 0.5
	stop_sink
	[ "$(json_get "$WORK/fb-anyip.json" 'len(d["udp"])')" -eq $N ] || fail "freebind over AnyIP: not $N exporters"
	ip -n "$A" route del local 10.1.0.0/16 dev lo
	note "freebind over an AnyIP route, unprivileged: $N exporters"
else
	note "setpriv cannot drop capabilities here: the unprivileged cases are not run"
fi

# TCP: 10,000 BMP sessions from 10.2.0.0/16.
M=10000
args=() map=""
for i in $(seq 0 $((M - 1))); do
	a=10.2.$((i / 250)).$((i % 250 + 1))
	args+=(-e "$a")
	map+="  - {src_ip: $a, repro_ip: $a}"$'\n'
done
printf '%s\n' "${args[@]}" | grep -v '^-e$' | sort >"$WORK/bmp.want"
"$GEN" --proto bmp --count $M -C 198.18.0.2 --out "$WORK/bmp.pcap" "${args[@]}"
printf 'pcap: %s\ntime_factor: 0\nno_sync: true\nnetwork:\n  spoof: freebind\n  map:\n%sbmp:\n  select: {tcp: {dport: [1790]}}\n  collector: {ip: 198.18.0.2, port: 1790}\n' \
	"$WORK/bmp.pcap" "$map" >"$WORK/bmp.yml"

# Without the AnyIP route the SYN-ACKs could not come back: the run says which command to add.
replay bmp-noroute "$WORK/bmp.yml"
[ $RC -eq 2 ] && grep -q "repro_ip 10.2.0.1 is not routed to this host" "$WORK/bmp-noroute.err" &&
	grep -q "ip route add local 10.2.0.1/32 dev lo" "$WORK/bmp-noroute.err" ||
	{ cat "$WORK/bmp-noroute.err" >&2; fail "TCP without an AnyIP route: exit $RC"; }
note "TCP without an AnyIP route: stopped, naming 'ip route add local'"

ip -n "$A" route add local 10.2.0.0/16 dev lo
start_sink bmp ip netns exec "$B" "$TR" sink --tcp 1790
replay bmp "$WORK/bmp.yml"
[ $RC -eq 0 ] || { cat "$WORK/bmp.err" >&2; fail "bmp: replay exited with $RC"; }
sleep 0.5
stop_sink
sent=$(json_get "$WORK/bmp.stats.json" 'd["sections"]["bmp"]["sent"]')
got=$(json_get "$WORK/bmp.json" 'd["totals"]["tcp_messages"]')
bad=$(json_get "$WORK/bmp.json" 'sum(c["framing_errors"] + c["resets"] for c in d["tcp"])')
[ "$got" -eq "$sent" ] && [ "$bad" -eq 0 ] || fail "bmp: the collector got $got messages of $sent, $bad framing errors or resets"
json_get "$WORK/bmp.json" '"\n".join(sorted(set(c["exporter"] for c in d["tcp"])))' >"$WORK/bmp.seen"
cmp -s "$WORK/bmp.seen" "$WORK/bmp.want" ||
	fail "bmp: the collector saw $(wc -l <"$WORK/bmp.seen") exporters, not the $M of the map"
note "bmp: the collector saw all $M exporters over TCP, $got messages"

# TCP over IPv6: 100 BMP sessions from 2001:db8:2::/64, first without its AnyIP route.
args=() map=""
for i in $(seq 1 100); do
	args+=(-e "2001:db8:2::$i")
	map+="  - {src_ip: \"2001:db8:2::$i\", repro_ip: \"2001:db8:2::$i\"}"$'\n'
done
printf '%s\n' "${args[@]}" | grep -v '^-e$' | sort >"$WORK/bmp6.want"
"$GEN" --proto bmp --count 100 -C 2001:db8:ff::2 --out "$WORK/bmp6.pcap" "${args[@]}"
printf 'pcap: %s\ntime_factor: 0\nno_sync: true\nnetwork:\n  spoof: raw\n  map:\n%sbmp:\n  select: {tcp: {dport: [1790]}}\n  collector: {ip: "2001:db8:ff::2", port: 1790}\n' \
	"$WORK/bmp6.pcap" "$map" >"$WORK/bmp6.yml"
ip -n "$B" -6 route add 2001:db8:2::/64 via 2001:db8:ff::1
replay bmp6-noroute "$WORK/bmp6.yml"
[ $RC -eq 2 ] && grep -q "ip -6 route add local 2001:db8:2::1/128 dev lo" "$WORK/bmp6-noroute.err" ||
	{ cat "$WORK/bmp6-noroute.err" >&2; fail "TCP over IPv6 without an AnyIP route: exit $RC"; }
ip -n "$A" -6 route add local 2001:db8:2::/64 dev lo
start_sink bmp6 ip netns exec "$B" "$TR" sink --tcp 1790
replay bmp6 "$WORK/bmp6.yml"
[ $RC -eq 0 ] || { cat "$WORK/bmp6.err" >&2; fail "bmp6: replay exited with $RC"; }
sleep 0.5
stop_sink
sent=$(json_get "$WORK/bmp6.stats.json" 'd["sections"]["bmp"]["sent"]')
got=$(json_get "$WORK/bmp6.json" 'd["totals"]["tcp_messages"]')
[ "$got" -eq "$sent" ] || fail "bmp6: the collector got $got messages of $sent"
json_get "$WORK/bmp6.json" '"\n".join(sorted(set(c["exporter"] for c in d["tcp"])))' >"$WORK/bmp6.seen"
cmp -s "$WORK/bmp6.seen" "$WORK/bmp6.want" ||
	fail "bmp6: the collector saw $(wc -l <"$WORK/bmp6.seen") exporters, not the 100 of the map"
note "bmp over IPv6 (spoof: raw, TCP as freebind): all 100 exporters over AnyIP, $got messages"
echo PASS
