#!/usr/bin/env bash
# End to end: BMP, BGP and generic TCP sessions from generated raw captures (handshakes,
# retransmissions, keep-alive probes, segments of any size) arrive at the sink as the
# exact message stream the exporter sent, one connection per captured session.
. "$(dirname "$0")/../lib.sh"

command -v tshark >/dev/null || skip "tshark is not installed (make test-deps)"
start_sink sink "$TR" sink --tcp 0 --tcp 0 --tcp 0
BMP_PORT=$(ready_port "$WORK/sink.ready" tcp 1)
BGP_PORT=$(ready_port "$WORK/sink.ready" tcp 2)
RAW_PORT=$(ready_port "$WORK/sink.ready" tcp 3)

config() {
	local pcap=$1; shift
	cat <<YAML
pcap: $pcap
time_factor: 0
no_sync: true
network:
  map:
  - {src_ip: 192.0.2.1, repro_ip: 127.0.0.2}
  - {src_ip: 192.0.2.2, repro_ip: 127.0.0.3}
  - {src_ip: "2001:db8::1", repro_ip: "::1"}
bmp:
  select: {tcp: {dport: [1790]}}
  collector: {ip: localhost, port: $BMP_PORT}
bgp:
  select: {tcp: {dport: [179]}}
  collector: {ip: localhost, port: $BGP_PORT}
$*
YAML
}

# expected_stream PCAP DPORT SRC: the exporter's reassembled byte stream, by tshark.
expected_stream() {
	local ip=ip
	case $3 in *:*) ip=ipv6 ;; esac
	tshark -r "$1" -q -z "follow,tcp,raw,$(tshark -r "$1" -Y "tcp.dstport == $2 && $ip.src == $3" -T fields -e tcp.stream 2>/dev/null | head -1)" 2>/dev/null |
		awk '/^=+$/ { n++; next } n == 1 && /^[0-9a-f]+$/ { printf "%s", $0 }'
}

# received_stream DUMP PORT EXPORTER: what the sink got on PORT from EXPORTER, concatenated.
received_stream() {
	awk -v p="$2" -v e="$3" '$1 == "tcp" && $4 == p && $2 == e { printf "%s", $5 }' "$1"
}

# check_stream NAME PCAP DPORT PORT SRC REPRO [HEX_APPENDED_BY_THE_REPLAY]
check_stream() {
	local name=$1 pcap=$2 dport=$3 port=$4 src=$5 repro=$6 want got
	want=$(expected_stream "$pcap" "$dport" "$src")${7:-}
	[ -n "$want" ] || fail "$name: tshark found no stream from $src"
	for _ in $(seq 1 30); do
		got=$(received_stream "$WORK/sink.dump" "$port" "$repro")
		[ "${#got}" -ge "${#want}" ] && break
		sleep 0.1
	done
	[ "$got" = "$want" ] || fail "$name: the stream from $repro ($((${#got} / 2)) bytes) is not the captured one ($((${#want} / 2)) bytes)"
	note "$name: $((${#want} / 2)) bytes from $repro byte-exact"
}

# 1. BMP: handshake, noise (a keep-alive probe with a stale byte inside the session), one message per segment.
"$GEN" --proto bmp --count 40 --exporter 192.0.2.1 --noise --out "$WORK/bmp.pcap"
config "$WORK/bmp.pcap" >"$WORK/bmp.yml"
"$TR" -t "$WORK/bmp.yml" --stats-json "$WORK/bmp.json" 2>"$WORK/bmp.log" || { cat "$WORK/bmp.log"; fail "bmp: exit $?"; }
check_stream bmp "$WORK/bmp.pcap" 1790 "$BMP_PORT" 192.0.2.1 127.0.0.2
[ "$(json_get "$WORK/bmp.json" 'd["tcp"]["sessions"]')" -eq 1 ] || fail "bmp: not exactly one session"

# 2. BMP messages cut into 7-byte segments, IPv6 exporter.
"$GEN" --proto bmp --count 20 --exporter 2001:db8::1 --segment 7 --out "$WORK/bmp-seg.pcap"
config "$WORK/bmp-seg.pcap" >"$WORK/bmp-seg.yml"
"$TR" -t "$WORK/bmp-seg.yml" 2>"$WORK/bmp-seg.log" || { cat "$WORK/bmp-seg.log"; fail "bmp-seg: exit $?"; }
check_stream bmp-segmented "$WORK/bmp-seg.pcap" 1790 "$BMP_PORT" 2001:db8::1 ::1

# 3. BGP: the sink answers the OPEN; the UPDATEs are held until it does.
"$GEN" --proto bgp --count 30 --exporter 192.0.2.2 --noise --out "$WORK/bgp.pcap"
config "$WORK/bgp.pcap" >"$WORK/bgp.yml"
"$TR" -t "$WORK/bgp.yml" --stats-json "$WORK/bgp.json" 2>"$WORK/bgp.log" || { cat "$WORK/bgp.log"; fail "bgp: exit $?"; }
# The capture ends without closing the session: the replay ends it with a Cease NOTIFICATION.
check_stream bgp "$WORK/bgp.pcap" 179 "$BGP_PORT" 192.0.2.2 127.0.0.3 ffffffffffffffffffffffffffffffff0015030602

# 4. bmp_h filters at replay time: only route monitoring (0) and initiation (4).
config "$WORK/bmp.pcap" >"$WORK/bmp-filter.yml"
sed -i 's/select: {tcp: {dport: \[1790\]}}/select: {tcp: {dport: [1790]}, bmp_h: {type: [0, 4]}}/' "$WORK/bmp-filter.yml"
before=$(grep -c "^tcp .* $BMP_PORT " "$WORK/sink.dump" || true)
"$TR" -t "$WORK/bmp-filter.yml" --stats-json "$WORK/bmp-filter.json" 2>"$WORK/bmp-filter.log" || fail "bmp-filter: exit $?"
sleep 0.3
want=$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["type"] in (0, 4)))' "$WORK/bmp-filter.expect" 2>/dev/null ||
	tshark -r "$WORK/bmp.pcap" -d tcp.port==1790,bmp -o gui.max_tree_depth:100000 -Y 'ip.src == 192.0.2.1' -T fields -e bmp.type 2>/dev/null | tr ',' '\n' | grep -cE '^(0|4)$')
after=$(grep -c "^tcp .* $BMP_PORT " "$WORK/sink.dump" || true)
[ $((after - before)) -eq "$want" ] || fail "bmp_h filter: $((after - before)) messages arrived, $want of types 0 and 4 expected"
filtered=$(json_get "$WORK/bmp-filter.json" 'd["sections"]["bmp"]["filtered"]')
[ "$filtered" -gt 0 ] || fail "bmp_h filter: nothing counted as filtered"
note "bmp_h filter: $want messages of types 0 and 4 arrived, $filtered filtered"

# 5. A BGP session idle longer than a third of its hold time (3 s) gets KEEPALIVEs added.
"$GEN" --proto bgp --count 3 --exporter 192.0.2.1 --hold-time 3 --gap-us 1500000 --out "$WORK/idle.pcap"
config "$WORK/idle.pcap" | sed 's/^time_factor: 0$/time_factor: 1/' >"$WORK/idle.yml"
"$TR" -t "$WORK/idle.yml" --stats-json "$WORK/idle.json" 2>"$WORK/idle.log" || { cat "$WORK/idle.log"; fail "idle bgp: exit $?"; }
added=$(json_get "$WORK/idle.json" 'd["tcp"]["bgp_keepalives_added"]')
captured=$(tshark -r "$WORK/idle.pcap" -Y 'ip.src == 192.0.2.1' -T fields -e bgp.type 2>/dev/null | tr ',' '\n' | grep -c '^4$')
[ "$added" -ge 2 ] || fail "idle bgp: $added KEEPALIVEs added over about 5 s idle with hold time 3 s"
note "idle bgp: $added KEEPALIVEs added to the $captured captured ones"

stop_sink
python3 - "$WORK/sink.json" "$((added + captured))" <<'PY' || fail "sink summary"
import json, sys
d = json.load(open(sys.argv[1]))
bgp = [t for t in d["tcp"] if t["protocol"] == "bgp"]
assert bgp and bgp[0]["opens_answered"] >= 1, "the sink answered no OPEN"
assert {"code": 6, "subcode": 2} in bgp[0]["notifications"], "no Cease (administrative shutdown) at the end"
idle = [t for t in d["tcp"] if t["protocol"] == "bgp" and t["exporter"] == "127.0.0.2"]
assert idle and idle[0]["types"]["keepalive"] == int(sys.argv[2]), \
    f"keepalives at the sink: {idle and idle[0]['types']['keepalive']}, expected {sys.argv[2]}"
assert all(t["framing_errors"] == 0 for t in d["tcp"]), "framing errors at the sink"
PY
# 6. A collector that answers with no capability: the replay names what it will misread.
start_sink bare "$TR" sink --tcp 0 --bgp-bare
sed "s/port: $BGP_PORT}/port: $(ready_port "$WORK/bare.ready" tcp 1)}/" "$WORK/bgp.yml" >"$WORK/bare.yml"
"$TR" -t "$WORK/bare.yml" 2>"$WORK/bare.log" || { cat "$WORK/bare.log"; fail "bare collector: exit $?"; }
stop_sink
grep -q "negotiated 4-byte AS numbers (RFC 6793) but this one does not" "$WORK/bare.log" || { cat "$WORK/bare.log"; fail "no 4-byte AS warning"; }
grep -q "does not advertise AFI 1 SAFI 1" "$WORK/bare.log" || { cat "$WORK/bare.log"; fail "no IPv4 unicast family warning"; }
# And none against a collector that mirrors the exporter (the sink's default, like pmbgpd).
grep -qE "does not advertise|negotiated" "$WORK/bgp.log" && fail "capability warnings against a mirroring collector"
note "capabilities: warned about 4-byte AS and IPv4 unicast with a bare collector, not with a mirroring one"

# 7. bgp.open rewrites the replayed OPEN's identifier and hold time; the rest is as captured.
start_sink rewrite "$TR" sink --tcp 0
{ sed "s/port: $BGP_PORT}/port: $(ready_port "$WORK/rewrite.ready" tcp 1)}/" "$WORK/bgp.yml"
  printf '  open:\n    bgp_id: 10.9.8.7\n    hold_time: 30\n'; } >"$WORK/rewrite.yml"
"$TR" -t "$WORK/rewrite.yml" -n | grep -q "bgp_id: 10.9.8.7" || fail "bgp.open did not load"
"$TR" -t "$WORK/rewrite.yml" 2>"$WORK/rewrite.log" || { cat "$WORK/rewrite.log"; fail "rewrite: exit $?"; }
stop_sink
sent_open=$(awk '$1 == "tcp" { print $5; exit }' "$WORK/rewrite.dump")
captured_open=$(awk '$1 == "tcp" && $2 == "127.0.0.3" { print $5; exit }' "$WORK/sink.dump")
[ "${sent_open:36:2}" = 01 ] || fail "rewrite: the first message is not an OPEN"
[ "${sent_open:44:4}" = 001e ] && [ "${sent_open:48:8}" = 0a090807 ] ||
	fail "rewrite: hold time ${sent_open:44:4} and identifier ${sent_open:48:8}, expected 001e and 0a090807"
[ "${sent_open:0:44}${sent_open:56}" = "${captured_open:0:44}${captured_open:56}" ] ||
	fail "rewrite: more than the hold time and identifier changed"
note "bgp.open: the OPEN went out with hold time 30 and identifier 10.9.8.7, the rest as captured"

# 8. bgp.open.trim_capabilities: the exporter's captured OPEN offers ADD-PATH, the captured
# collector's does not (so the UPDATEs carry no path identifiers).  With the key the OPEN
# arrives without it, its lengths recomputed; without the key, as captured.  A capture with
# no collector side has nothing to trim to: a warning, and the OPEN as captured.
"$GEN" --proto bgp --count 5 --exporter 192.0.2.2 --add-path --out "$WORK/ap.pcap"
tshark -r "$WORK/ap.pcap" -Y 'ip.src == 192.0.2.2' -F pcap -w "$WORK/ap-oneway.pcap" 2>/dev/null ||
	fail "trim: tshark cannot write the exporter's side alone"
captured_open=$(tshark -r "$WORK/ap.pcap" -Y 'ip.src == 192.0.2.2 && bgp.type == 1' -T fields -e tcp.payload 2>/dev/null | head -1)
case $captured_open in *450400010103) ;; *) fail "trim: the generated OPEN ($captured_open) does not end with ADD-PATH" ;; esac
# trim_round NAME PCAP [OPEN_KEYS]: replay PCAP's BGP session to a fresh sink; sets FIRST to
# the first message it got (no subshell: a failure must stop that sink too).
trim_round() {
	local name=$1 pcap=$2
	start_sink "$name" "$TR" sink --tcp 0
	{ config "$pcap" | sed "s/port: $BGP_PORT}/port: $(ready_port "$WORK/$name.ready" tcp 1)}/"
	  [ -z "${3:-}" ] || printf '  open: {%s}\n' "$3"; } >"$WORK/$name.yml"
	"$TR" -v -t "$WORK/$name.yml" 2>"$WORK/$name.log" || { cat "$WORK/$name.log" >&2; fail "$name: exit $?"; }
	stop_sink
	FIRST=$(awk '$1 == "tcp" { print $5; exit }' "$WORK/$name.dump")
}
trim_round trim-off "$WORK/ap.pcap"
[ "$FIRST" = "$captured_open" ] || fail "trim-off: the OPEN changed without trim_capabilities: $FIRST"
trim_round trim-on "$WORK/ap.pcap" "trim_capabilities: true"
open_trimmed=$FIRST
# 6 bytes less: message length 0x31 -> 0x2b, optional parameters 0x14 -> 0x0e, capabilities 0x12 -> 0x0c.
want=${captured_open:0:32}002b${captured_open:36:20}0e020c${captured_open:62:24}
[ "$open_trimmed" = "$want" ] || fail "trim-on: the OPEN arrived as $open_trimmed, expected $want"
grep -q "removed from the OPEN what the captured collector did not offer: ADD-PATH (69)" "$WORK/trim-on.log" ||
	{ cat "$WORK/trim-on.log"; fail "trim-on: no log of what was removed"; }
grep -q "removed from the OPEN" "$WORK/trim-off.log" && fail "trim-off: trimmed without the key"
trim_round trim-oneway "$WORK/ap-oneway.pcap" "trim_capabilities: true"
[ "$FIRST" = "$captured_open" ] || fail "trim-oneway: the OPEN changed with no collector side to trim to"
[ "$(grep -c "have no OPEN from the collector" "$WORK/trim-oneway.log")" -eq 1 ] ||
	{ cat "$WORK/trim-oneway.log"; fail "trim-oneway: not one warning about the missing collector side"; }
note "trim_capabilities: ADD-PATH, which the captured collector did not offer, left the OPEN; kept without the key or a collector side"
echo PASS
