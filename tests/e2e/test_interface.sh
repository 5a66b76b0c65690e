#!/usr/bin/env bash
# network.interface (SO_BINDTODEVICE): traffic leaves through the named device.
# Two namespaces joined by a veth pair stand in for the exporter host and the collector.
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" -eq 0 ] || skip "network namespaces and SO_BINDTODEVICE need root"
# The exporter host reaches 198.18.0.2 through two devices, each leading to its own
# collector host: only the device named in network.interface may carry the traffic.
SND=tr-snd-$$ R1=tr-r1-$$ R2=tr-r2-$$
ip netns add "$SND" 2>/dev/null || skip "cannot create network namespaces here"
cleanup_hooks+=('ip netns del "$SND" 2>/dev/null' 'ip netns del "$R1" 2>/dev/null' 'ip netns del "$R2" 2>/dev/null')
ip netns add "$R1"
ip netns add "$R2"
for ns in "$SND" "$R1" "$R2"; do ip -n "$ns" link set lo up; done
for i in 1 2; do
	ns=$([ $i = 1 ] && echo "$R1" || echo "$R2")
	ip link add "t$$a$i" netns "$SND" type veth peer name "t$$b$i" netns "$ns"
	ip -n "$SND" addr add "198.18.0.$((2 * i + 1))/24" dev "t$$a$i"
	ip -n "$ns" addr add 198.18.0.2/24 dev "t$$b$i"
	ip -n "$SND" link set "t$$a$i" up
	ip -n "$ns" link set "t$$b$i" up
done

"$GEN" --proto ipfix --count 10 --exporter 192.0.2.1 --dport 4739 --out "$WORK/c.pcap"
want=$(tshark -r "$WORK/c.pcap" 2>/dev/null | wc -l)
config() {
	cat <<YAML
pcap: $WORK/c.pcap
time_factor: 0
no_sync: true
network:
  map:
  - {src_ip: 192.0.2.1, repro_ip: 198.18.0.3}
  interface: $1
ipfix:
  collector: {ip: 198.18.0.2, port: 24739}
YAML
}

# via DEVICE N: replay bound to DEVICE; every datagram must reach collector host N only.
via() {
	local dev=$1 n=$2 s1 s2 got1 got2
	start_sink "r1-$dev" ip netns exec "$R1" "$TR" sink --udp 24739
	s1=$SINK_PID
	start_sink "r2-$dev" ip netns exec "$R2" "$TR" sink --udp 24739
	s2=$SINK_PID
	config "$dev" >"$WORK/$dev.yml"
	ip netns exec "$SND" "$TR" -t "$WORK/$dev.yml" 2>"$WORK/$dev.err" || { cat "$WORK/$dev.err"; fail "interface $dev: exit $?"; }
	sleep 0.3
	kill -INT "$s1" "$s2"
	wait "$s1" "$s2" || true
	SINK_PID=""
	got1=$(json_get "$WORK/r1-$dev.json" 'd["totals"]["datagrams"]')
	got2=$(json_get "$WORK/r2-$dev.json" 'd["totals"]["datagrams"]')
	if [ "$n" = 1 ]; then [ "$got1" -eq "$want" ] && [ "$got2" -eq 0 ]; else [ "$got2" -eq "$want" ] && [ "$got1" -eq 0 ]; fi ||
		fail "interface $dev: collector 1 got $got1, collector 2 got $got2; all $want expected at collector $n"
	note "interface $dev: all $want datagrams at collector $n, none at the other"
}
via "t$$a2" 2
via "t$$a1" 1

# A device that does not exist.
config no-such-dev0 >"$WORK/nodev.yml"
rc=0; ip netns exec "$SND" "$TR" -t "$WORK/nodev.yml" 2>"$WORK/nodev.err" || rc=$?
[ $rc -eq 2 ] && grep -q "network.interface 'no-such-dev0' does not exist" "$WORK/nodev.err" ||
	{ cat "$WORK/nodev.err"; fail "missing interface: exit $rc"; }
echo PASS
