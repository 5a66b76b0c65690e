#!/usr/bin/env bash
# Hostile tier: collectors that are down, refuse, stop reading or never answer, and datagrams
# too large to send.  Each case: the exit code, the message, the figures in --stats-json,
# and a peak RSS bound (the `hostile` helper in tests/lib.sh).
#
#   udp-down-4096        4,096 exporters to a closed UDP port: a few sockets named, one line for
#                        the rest, every refusal counted; exit 0 (routers send on regardless)
#   udp-refused-10       10 datagrams at time_factor 0 to a closed port: all 10 refusals counted
#                        (the last ones come back after the last send)
#   udp-too-large        a 65,527-byte reassembled datagram to an IPv4 collector: not sent, not
#                        counted as sent, exit 1
#   tcp-down             a BMP session to a closed port: the refusal named, and the session's loss
#                        line agrees with the summary's not-sent count; exit 1
#   tcp-down-ipv6        the same over IPv6: the endpoint written [::1]:PORT
#   tcp-stalled          a collector that accepts and never reads: the session is ended after
#                        tcp_stall_limit, named, its messages counted as not sent; exit 1
#   bgp-no-answer        a BGP collector that reads but never answers the OPEN: only the OPEN
#                        counts as sent; the rest is not sent; exit 1
#   no-select            a BGP section without `select`: the collector's own segments are its
#                        side of the session, not an unknown exporter
. "$(dirname "$0")/../lib.sh"

command -v python3 >/dev/null || skip "python3 is not installed"
if [ ! -x "$TR" ] || [ ! -x "$GEN" ]; then fail "$TR and $GEN must be built first"; fi

# config NAME PCAP SECTION DPORT COLLECTOR PORT [EXTRA_TOP_LEVEL_YAML] < "SRC REPRO" lines
config() {
	local name=$1 pcap=$2 section=$3 dport=$4 coll=$5 port=$6 extra=${7:-} l4=udp src repro
	case $section in bmp|bgp|tcp_generic) l4=tcp ;; esac
	{
		printf 'pcap: %s\ntime_factor: 0\nno_sync: true\n%s\nnetwork:\n  map:\n' "$pcap" "$extra"
		while read -r src repro; do [ -n "$src" ] || continue; printf '  - {src_ip: "%s", repro_ip: "%s"}\n' "$src" "$repro"; done
		printf '%s:\n  select: {%s: {dport: [%s]}}\n  collector: {ip: "%s", port: %s}\n' \
			"$section" "$l4" "$dport" "$coll" "$port"
	} >"$WORK/$name.yml"
}
stat_of() { json_get "$WORK/$1.stats.json" "$2"; }

# ---- UDP ----------------------------------------------------------------------------------
CLOSED_UDP=$(free_port udp)
exporters=() maps=""
for ((i = 0; i < 4096; i++)); do
	exporters+=(--exporter "10.2.$((i / 250)).$((i % 250 + 1))")
	maps+="10.2.$((i / 250)).$((i % 250 + 1)) 127.2.$((i / 250)).$((i % 250 + 1))"$'\n'
done
"$GEN" --proto ipfix --count 4096 "${exporters[@]}" --out "$WORK/many.pcap" >/dev/null
config udp-down-4096 "$WORK/many.pcap" ipfix 4739 127.0.0.1 "$CLOSED_UDP" <<<"$maps"
hostile udp-down-4096 0 "refused datagrams on [0-9]+ more sockets" 128 \
	"$TR" -t "$WORK/udp-down-4096.yml" --stats-json "$WORK/udp-down-4096.stats.json"
lines=$(grep -c "warning:" "$WORK/udp-down-4096.err")
[ "$lines" -le 10 ] || fail "udp-down-4096: $lines warnings for 4,096 refused sockets"
refused=$(stat_of udp-down-4096 'd["sections"]["ipfix"]["refused"]')
sent=$(stat_of udp-down-4096 'd["sections"]["ipfix"]["sent"]')
[ "$refused" -eq "$sent" ] && [ "$sent" -ge 4096 ] ||
	fail "udp-down-4096: $refused of the $sent datagrams sent counted as refused"
note "udp-down-4096: $lines warning lines, $refused refusals counted"

"$GEN" --proto udp --count 10 --exporter 192.0.2.1 --out "$WORK/ten.pcap"
config udp-refused-10 "$WORK/ten.pcap" udp_generic 9999 127.0.0.1 "$CLOSED_UDP" <<<"192.0.2.1 127.0.0.1"
hostile udp-refused-10 0 "the collector refused a datagram" 32 \
	"$TR" -t "$WORK/udp-refused-10.yml" --stats-json "$WORK/udp-refused-10.stats.json"
[ "$(stat_of udp-refused-10 'd["sections"]["udp_generic"]["refused"]')" -eq 10 ] ||
	fail "udp-refused-10: $(stat_of udp-refused-10 'd["sections"]["udp_generic"]') (10 refusals expected)"

# A UDP datagram of 65,527 bytes (the most IPv6 carries), reassembled from IPv6 fragments:
# no IPv4 socket can send it.
python3 - "$WORK/big.pcap" <<'PY'
import struct, sys
payload = bytes(range(256)) * 255 + bytes(range(247))      # 65,527 bytes
src, dst = bytes.fromhex("20010db8000000000000000000000001"), bytes.fromhex("20010db8000000000000000000000002")
udp = struct.pack("!HHHH", 50000, 9999, 8 + len(payload), 0) + payload
pseudo = src + dst + struct.pack("!IxxxB", len(udp), 17)
data = pseudo + udp + (b"\0" if len(udp) % 2 else b"")
s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
while s >> 16:
    s = (s & 0xFFFF) + (s >> 16)
udp = udp[:6] + struct.pack("!H", ~s & 0xFFFF) + udp[8:]
frames, off = [], 0
while off < len(udp):
    chunk = udp[off:off + 1448]
    more = off + len(chunk) < len(udp)
    frag = struct.pack("!BBHI", 17, 0, off | (1 if more else 0), 7)
    ip6 = struct.pack("!IHBB", 0x60000000, 8 + len(chunk), 44, 64) + src + dst
    frames.append(b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x86\xdd" + ip6 + frag + chunk)
    off += len(chunk)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
    for i, fr in enumerate(frames):
        f.write(struct.pack("<IIII", 1700000000, i, len(fr), len(fr)) + fr)
PY
start_sink bigsink "$TR" sink --udp 0
config udp-too-large "$WORK/big.pcap" udp_generic 9999 127.0.0.1 "$(ready_port "$WORK/bigsink.ready" udp)" \
	<<<"2001:db8::1 127.0.0.1"
hostile udp-too-large 1 "65527 bytes is not sent: larger than a UDP datagram can be over IPv4" 64 \
	"$TR" -t "$WORK/udp-too-large.yml" --stats-json "$WORK/udp-too-large.stats.json"
stop_sink
[ "$(stat_of udp-too-large 'd["sections"]["udp_generic"]["sent"]')" -eq 0 ] &&
	[ "$(stat_of udp-too-large 'd["sections"]["udp_generic"]["dropped"]')" -eq 1 ] ||
	fail "udp-too-large: $(stat_of udp-too-large 'd["sections"]["udp_generic"]') (0 sent, 1 dropped expected)"

# ---- TCP ----------------------------------------------------------------------------------
"$GEN" --proto bmp --count 100 --exporter 192.0.2.1 --out "$WORK/bmp.pcap" --expect "$WORK/bmp.expect"
MSGS=$(wc -l <"$WORK/bmp.expect")
[ "$MSGS" -gt 100 ] || fail "the generator made $MSGS BMP messages"
CLOSED_TCP=$(free_port tcp)
config tcp-down "$WORK/bmp.pcap" bmp 1790 127.0.0.1 "$CLOSED_TCP" <<<"192.0.2.1 127.0.0.1"
hostile tcp-down 1 "cannot connect to the collector \\(127.0.0.1 -> 127.0.0.1:$CLOSED_TCP \\(tcp\\)\\): Connection refused" 32 \
	"$TR" -t "$WORK/tcp-down.yml" --stats-json "$WORK/tcp-down.stats.json"
grep -q "none of its $MSGS messages were sent" "$WORK/tcp-down.err" ||
	{ cat "$WORK/tcp-down.err"; fail "tcp-down: no line saying that none of the $MSGS messages were sent"; }
[ "$(stat_of tcp-down 'd["sections"]["bmp"]["dropped"] + d["sections"]["bmp"]["not_replayed"]')" -eq "$MSGS" ] ||
	fail "tcp-down: the summary's not-sent count disagrees: $(stat_of tcp-down 'd["sections"]["bmp"]')"

if python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
	"$GEN" --proto bmp --count 10 --exporter 2001:db8::1 --out "$WORK/bmp6.pcap"
	CLOSED6=$(free_port tcp ::1)
	config tcp-down-ipv6 "$WORK/bmp6.pcap" bmp 1790 ::1 "$CLOSED6" <<<"2001:db8::1 ::1"
	hostile tcp-down-ipv6 1 "\[::1\]:$CLOSED6" 32 "$TR" -t "$WORK/tcp-down-ipv6.yml"
	grep -q "\[2001:db8::1\]:50000 -> port 1790" "$WORK/tcp-down-ipv6.err" ||
		fail "tcp-down-ipv6: the exporter's endpoint is not written [2001:db8::1]:50000"
else
	note "tcp-down-ipv6: no IPv6 loopback here: skipped"
fi

# listener MODE: accepts on a free port and never reads (MODE=deaf), or reads everything and
# never answers (MODE=silent); prints the port, runs until killed.
listener() {
	python3 -u - "$1" <<'PY' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
    if sys.argv[1] == "silent":
        try:
            while c.recv(65536):
                pass
        except OSError:
            pass
PY
	LISTENER=$!
	cleanup_hooks+=("kill $LISTENER 2>/dev/null")
}

# A collector that stops reading: 20 MB of BMP cannot all be queued in socket buffers.
"$GEN" --proto bmp --count 100000 --exporter 192.0.2.1 --out "$WORK/bmp-big.pcap"
listener deaf >"$WORK/deaf.port"
for _ in $(seq 1 50); do [ -s "$WORK/deaf.port" ] && break; sleep 0.1; done
config tcp-stalled "$WORK/bmp-big.pcap" bmp 1790 127.0.0.1 "$(cat "$WORK/deaf.port")" "tcp_stall_limit: 2" \
	<<<"192.0.2.1 127.0.0.1"
hostile tcp-stalled 1 "bmp session 192.0.2.1:50000 -> port 1790: the collector has taken nothing for [0-9]+ s" 160 \
	"$TR" -t "$WORK/tcp-stalled.yml" --stats-json "$WORK/tcp-stalled.stats.json"
[ "$(stat_of tcp-stalled 'd["tcp"]["sessions_stalled"]')" -eq 1 ] &&
	[ "$(stat_of tcp-stalled 'd["sections"]["bmp"]["dropped"]')" -gt 0 ] ||
	fail "tcp-stalled: $(cat "$WORK/tcp-stalled.stats.json")"
kill "$LISTENER" 2>/dev/null || true

# A BGP collector that takes every byte and never answers the OPEN.
"$GEN" --proto bgp --count 1000 --exporter 192.0.2.1 --out "$WORK/bgp.pcap"
listener silent >"$WORK/silent.port"
for _ in $(seq 1 50); do [ -s "$WORK/silent.port" ] && break; sleep 0.1; done
config bgp-no-answer "$WORK/bgp.pcap" bgp 179 127.0.0.1 "$(cat "$WORK/silent.port")" "tcp_stall_limit: 2" \
	<<<"192.0.2.1 127.0.0.1"
hostile bgp-no-answer 1 "never answered the BGP OPEN" 32 \
	"$TR" -t "$WORK/bgp-no-answer.yml" --stats-json "$WORK/bgp-no-answer.stats.json"
[ "$(stat_of bgp-no-answer 'd["sections"]["bgp"]["sent"]')" -eq 1 ] ||
	fail "bgp-no-answer: $(stat_of bgp-no-answer 'd["sections"]["bgp"]') (only the OPEN was sent)"
kill "$LISTENER" 2>/dev/null || true

# A BGP section without `select`: every TCP packet is the section's, the collector's too.
start_sink nosel "$TR" sink --tcp 0
{
	printf 'pcap: %s\ntime_factor: 0\nno_sync: true\nnetwork:\n  map:\n  - {src_ip: 192.0.2.1, repro_ip: 127.0.0.1}\n' \
		"$WORK/bgp.pcap"
	printf 'bgp:\n  collector: {ip: 127.0.0.1, port: %s}\n' "$(ready_port "$WORK/nosel.ready" tcp)"
} >"$WORK/no-select.yml"
hostile no-select 0 "" 32 "$TR" -t "$WORK/no-select.yml" --stats-json "$WORK/no-select.stats.json"
stop_sink
[ "$(stat_of no-select 'd["unknown_peer"]')" -eq 0 ] && [ "$(stat_of no-select 'd["tcp"]["collector_segments"]')" -gt 0 ] ||
	fail "no-select: the collector's segments are not its side: $(cat "$WORK/no-select.stats.json")"

echo PASS
