#!/usr/bin/env bash
# network.spoof benchmark: IPFIX from 10,000 exporters (10.1.0.0/16, on no interface) replayed at
# time_factor 0 from namespace A over a veth pair, with each mode:
#   - none over an AnyIP route ('ip route add local 10.1.0.0/16 dev lo': plain bound sockets);
#   - freebind (no route: IP_FREEBIND + IP_TRANSPARENT);
#   - raw (headers and UDP checksums built by the replay, raw sockets);
# against bench/udp_baseline.c --flood (the same datagrams preloaded, one connected socket,
# sendmmsg) in the same run.  The collector address is a static neighbour that namespace B
# does not own, so B drops every datagram silently (no receiver, no ICMP): the send path alone.
# Wall time from start to exit (10,000 sockets opened included); medians of REPS runs.
#
#   bench/spoof.sh [BUILD_DIR]      (needs root: namespaces, raw sockets)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-$HERE/../build}
TR=$BUILD/traffic-reproducer
REPS=${BENCH_REPS:-3}
DURATION=${BENCH_SPOOF_SECONDS:-40}	# of capture: about 11,000 datagrams a second of it
CC=${CC:-cc}
[ "$(id -u)" -eq 0 ] || { echo "bench/spoof.sh needs root (network namespaces, raw sockets)" >&2; exit 77; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tr-bench-spoof.XXXXXX")
A=trb-spa-$$ B=trb-spb-$$
trap 'ip netns del "$A" 2>/dev/null; ip netns del "$B" 2>/dev/null; rm -rf "$TMP"' EXIT

ip netns add "$A"
ip netns add "$B"
ip link add "bs$$a" netns "$A" type veth peer name "bs$$b" netns "$B"
ip -n "$A" addr add 198.18.0.1/24 dev "bs$$a"
ip -n "$B" addr add 198.18.0.2/24 dev "bs$$b"
for ns in "$A" "$B"; do ip -n "$ns" link set lo up; done
ip -n "$A" link set "bs$$a" up
ip -n "$B" link set "bs$$b" up
mac=$(ip -n "$B" -o link show "bs$$b" | sed -E 's/.*link\/ether ([0-9a-f:]+).*/\1/')
ip -n "$A" neigh add 198.18.0.3 lladdr "$mac" dev "bs$$a" nud permanent

"$CC" -O2 -o "$TMP/udp_baseline" "$HERE/udp_baseline.c"
cat >"$TMP/spec.yml" <<YAML
seed: 15
start: 2024-05-01T00:00:00Z
duration: $DURATION
collector: {ip: 198.18.0.3, port: 4739}
exporters: {count: 10000, address: 10.1.0.1, repro_address: 10.1.0.1}
ipfix:
  rate: 20
  templates:
    - id: 256
      fields: [sourceIPv4Address, destinationIPv4Address, octetDeltaCount, packetDeltaCount]
YAML
"$TR" generate -t "$TMP/spec.yml" -o "$TMP/c.pcap" >/dev/null 2>&1
for m in none freebind raw; do
	sed 's/^time_factor: 1$/time_factor: 0/' "$TMP/c.yml" |
		awk -v m="$m" '{ print } /^network:/ { print "  spoof: " m }' >"$TMP/$m.yml"
done
n=$(tshark -r "$TMP/c.pcap" 2>/dev/null | wc -l)
printf 'capture: %d datagrams from 10,000 exporters, %.1f MB\n' "$n" \
	"$(awk -v b="$(stat -c %s "$TMP/c.pcap")" 'BEGIN { print b / 1e6 }')"

median() { tr ' ' '\n' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e6 }'; }

base=() none=() freebind=() raw=()
for _ in $(seq "$REPS"); do
	t0=${EPOCHREALTIME/./}
	ip netns exec "$A" "$TMP/udp_baseline" --pcap "$TMP/c.pcap" --dst 198.18.0.3 --port 4739 --flood >/dev/null
	base+=("$(secs "$t0" "${EPOCHREALTIME/./}")")
	for m in none freebind raw; do
		[ $m = none ] && ip -n "$A" route add local 10.1.0.0/16 dev lo
		t0=${EPOCHREALTIME/./}
		ip netns exec "$A" "$TR" -t "$TMP/$m.yml" --stats-json "$TMP/$m.json" >/dev/null 2>"$TMP/$m.log" ||
			{ cat "$TMP/$m.log" >&2; exit 1; }
		t=$(secs "$t0" "${EPOCHREALTIME/./}")
		[ $m = none ] && ip -n "$A" route del local 10.1.0.0/16 dev lo
		sent=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sections"]["ipfix"]["sent"])' "$TMP/$m.json")
		[ "$sent" -eq "$n" ] || echo "warning: $m sent $sent of $n datagrams"
		eval "$m+=(\"\$t\")"
	done
done
b=$(echo "${base[@]}" | median)
printf '%-34s %8s s  %10s datagrams/s\n' "udp_baseline --flood (1 socket)" "$b" "$(awk -v n="$n" -v t="$b" 'BEGIN { printf "%.0f", n / t }')"
for m in none freebind raw; do
	eval "t=\$(echo \"\${$m[@]}\" | median)"
	label="replay, spoof: $m"
	[ $m = none ] && label="$label (AnyIP route)"
	printf '%-34s %8s s  %10s datagrams/s  %.2f x the baseline  %.2f x none\n' "$label" "$t" \
		"$(awk -v n="$n" -v t="$t" 'BEGIN { printf "%.0f", n / t }')" \
		"$(awk -v a="$b" -v t="$t" 'BEGIN { print a / t }')" \
		"$(awk -v a="$(echo "${none[@]}" | median)" -v t="$t" 'BEGIN { print a / t }')"
done
