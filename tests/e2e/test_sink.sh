#!/usr/bin/env bash
# End-to-end check of the built-in sink: UDP NetFlow/IPFIX, BMP, BGP (its OPEN answer) and raw TCP, JSON summary and dump.
set -u

BIN=${TR_BUILD_DIR:?TR_BUILD_DIR is not set}/traffic-reproducer
if [ ! -x "$BIN" ]; then
	echo "SKIP: $BIN is not built" >&2
	exit 77
fi
if ! command -v python3 >/dev/null; then
	echo "SKIP: python3 is needed to read the JSON summary" >&2
	exit 77
fi
if ! "$BIN" sink --help 2>/dev/null | grep -q 'traffic-reproducer sink'; then
	echo "FAIL: '$BIN sink --help' does not print the sink usage (main.c must dispatch to sink_main)" >&2
	exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tr-sink.XXXXXX")
SINK_PID=
cleanup() {
	if [ -n "$SINK_PID" ]; then
		kill "$SINK_PID" 2>/dev/null
		wait "$SINK_PID" 2>/dev/null
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	for f in "$WORK"/sink.err "$WORK"/summary.json "$WORK"/dump; do
		[ -s "$f" ] && { echo "--- $f" >&2; head -c 4000 "$f" >&2; }
	done
	exit 1
}

# Wait (up to ~10 s) until a command succeeds.
wait_for() {
	for _ in $(seq 100); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

"$BIN" sink --udp 0 --tcp 0 --ready "$WORK/ready" --dump "$WORK/dump" --json \
	>"$WORK/summary.json" 2>"$WORK/sink.err" &
SINK_PID=$!

wait_for test -s "$WORK/ready" || fail "the sink did not write its ready file"
UDP_PORT=$(awk '$1 == "udp" { print $2; exit }' "$WORK/ready")
TCP_PORT=$(awk '$1 == "tcp" { print $2; exit }' "$WORK/ready")
[ "$(wc -l <"$WORK/ready")" -eq 2 ] || fail "ready file should have two lines"
[ "$UDP_PORT" -gt 0 ] && [ "$TCP_PORT" -gt 0 ] || fail "ready file has no real ports"

# bash's printf writes at every \n byte, which would split a datagram: build
# it in a file, and cat sends it with one write.  Every datagram leaves by the
# same socket (fd 4): the sink keeps NetFlow state per source port, as
# collectors do.
exec 4<>"/dev/udp/127.0.0.1/$UDP_PORT" || fail "cannot open a UDP socket to the sink"
udp() {
	printf "$1" >"$WORK/datagram"
	cat "$WORK/datagram" >&4
}

# IPFIX domain 0: a template (id 256: two 4-byte fields), then data sets of
# 2 and 1 records.  Sequence numbers count data records: 0, 0, 2: no gap.
udp '\x00\x0a\x00\x20\x60\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x10\x01\x00\x00\x02\x00\x08\x00\x04\x00\x0c\x00\x04'
udp '\x00\x0a\x00\x24\x60\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x14\x0a\x00\x00\x01\x0a\x00\x00\x02\x0a\x00\x00\x03\x0a\x00\x00\x04'
udp '\x00\x0a\x00\x1c\x60\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00\x00\x01\x00\x00\x0c\x0a\x00\x00\x05\x0a\x00\x00\x06'
# NetFlow v9 source id 7, sequence 5 then 7: one packet missing.
udp '\x00\x09\x00\x00\x00\x00\x00\x01\x60\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x07'
udp '\x00\x09\x00\x00\x00\x00\x00\x02\x60\x00\x00\x01\x00\x00\x00\x07\x00\x00\x00\x07'
# Not NetFlow at all.
udp 'hello'

# BMP: Initiation (sysName "test") and Termination, then close.
exec 3<>"/dev/tcp/127.0.0.1/$TCP_PORT" || fail "cannot connect to the sink"
printf '\x03\x00\x00\x00\x0e\x04\x00\x02\x00\x04test' >&3
printf '\x03\x00\x00\x00\x0c\x05\x00\x01\x00\x02\x00\x00' >&3
exec 3>&-

# BGP: OPEN (AS 65001, hold 90, id 10.0.0.1, MP IPv4 unicast + 4-byte AS).
MARKER='\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff'
exec 3<>"/dev/tcp/127.0.0.1/$TCP_PORT" || fail "cannot connect to the sink"
printf "$MARKER"'\x00\x2d\x01\x04\xfd\xe9\x00\x5a\x0a\x00\x00\x01\x10\x02\x06\x01\x04\x00\x01\x00\x01\x02\x06\x41\x04\x00\x00\xfd\xe9' >&3
# The answer: OPEN (45 bytes: AS 64512, hold 90, 4-byte AS and MP) + KEEPALIVE.
ANSWER=$(timeout 10 head -c 64 <&3 | od -An -v -tx1 | tr -d ' \n')
FF=ffffffffffffffffffffffffffffffff
case "$ANSWER" in
${FF}002d0104fc00005a*) ;;
*) fail "BGP OPEN answer is wrong: $ANSWER" ;;
esac
[[ "$ANSWER" == *020641040000fc00* ]] || fail "OPEN answer lacks the 4-byte AS capability: $ANSWER"
[[ "$ANSWER" == *0206010400010001* ]] || fail "OPEN answer does not mirror MP IPv4 unicast: $ANSWER"
[[ "$ANSWER" == *${FF}001304 ]] || fail "OPEN answer is not followed by a KEEPALIVE: $ANSWER"
# KEEPALIVE, then NOTIFICATION Cease / Administrative Shutdown (6/2).
printf "$MARKER"'\x00\x13\x04' >&3
printf "$MARKER"'\x00\x15\x03\x06\x02' >&3
exec 3>&-

# Something that is neither: counted raw, dumped whole at close.
exec 3<>"/dev/tcp/127.0.0.1/$TCP_PORT" || fail "cannot connect to the sink"
printf 'hello sink' >&3
exec 3>&-

# 6 datagrams + 2 BMP + 3 BGP messages + 1 raw connection.
dump_complete() { [ "$(wc -l <"$WORK/dump")" -ge 12 ]; }
wait_for dump_complete || fail "dump has $(wc -l <"$WORK/dump") lines, want 12"

kill -INT "$SINK_PID"
wait "$SINK_PID"
rc=$?
SINK_PID=
[ "$rc" -eq 0 ] || fail "sink exited with $rc after SIGINT"

python3 - "$WORK/summary.json" "$UDP_PORT" "$TCP_PORT" <<'EOF' || fail "summary check"
import json, sys

s = json.load(open(sys.argv[1]))
udp_port, tcp_port = int(sys.argv[2]), int(sys.argv[3])

def check(cond, what):
    if not cond:
        sys.exit("summary: " + what + "\n" + json.dumps(s, indent=1))

check(list(s) == ["udp", "tcp", "totals"], "top-level keys")
check(len(s["udp"]) == 1, "one UDP exporter")
u = s["udp"][0]
check(u["exporter"] == "127.0.0.1" and u["port"] == udp_port, "UDP key")
check(u["datagrams"] == 6 and u["undecoded"] == 1, "UDP datagram counts")
nf = {(n["version"], n["domain"]): n for n in u["netflow"]}
check(len(nf) == len(u["netflow"]) == 2 and
      len({n["source_port"] for n in u["netflow"]}) == 1 and
      u["netflow"][0]["source_port"] > 0, "one source port, one entry per version and domain")
ipfix = nf.get((10, 0))
check(ipfix is not None, "IPFIX domain 0 present")
check(ipfix["messages"] == 3 and ipfix["first_sequence"] == 0 and
      ipfix["last_sequence"] == 2, "IPFIX messages and sequence range")
check(ipfix["sequence_errors"] == 0, "IPFIX has no sequence error")
check(ipfix["template_sets"] == 1 and ipfix["data_sets"] == 2, "IPFIX sets")
v9 = nf.get((9, 7))
check(v9 is not None and v9["messages"] == 2, "v9 source id 7")
check(v9["sequence_errors"] == 1, "v9 gap detected")

tcp = {t["protocol"]: t for t in s["tcp"]}
check(sorted(tcp) == ["bgp", "bmp", "raw"], "one TCP entry per protocol")
for t in s["tcp"]:
    check(t["exporter"] == "127.0.0.1" and t["port"] == tcp_port, "TCP key")
    check(t["connections"] == 1 and t["closed"] == 1, "TCP connection counts")
    check(t["framing_errors"] == 0, "no framing error")
bmp = tcp["bmp"]
check(bmp["messages"] == 2 and bmp["bytes"] == 26, "BMP counts")
check(bmp["types"]["initiation"] == 1 and bmp["types"]["termination"] == 1 and
      bmp["types"]["route_monitoring"] == 0, "BMP types")
bgp = tcp["bgp"]
check(bgp["messages"] == 3 and bgp["types"]["open"] == 1 and
      bgp["types"]["keepalive"] == 1 and bgp["types"]["notification"] == 1,
      "BGP types")
check(bgp["opens_answered"] == 1, "OPEN answered")
check(bgp["notifications"] == [{"code": 6, "subcode": 2}], "NOTIFICATION recorded")
check(tcp["raw"]["bytes"] == 10 and tcp["raw"]["messages"] == 0, "raw counts")
tot = s["totals"]
check(tot["datagrams"] == 6 and tot["tcp_messages"] == 5 and
      tot["tcp_connections"] == 3, "totals")
check(tot["bytes"] == u["bytes"] + 26 + bgp["bytes"] + 10, "total bytes")
EOF

# Dump: one line per datagram and per message, raw bytes in one line.
grep -q "^udp 127\.0\.0\.1 [0-9]* $UDP_PORT 000a0020" "$WORK/dump" || fail "dump lacks the IPFIX template datagram"
[ "$(grep -c "^udp 127\.0\.0\.1 [0-9]* $UDP_PORT " "$WORK/dump")" -eq 6 ] || fail "dump should have 6 udp lines"
grep -q "^tcp 127\.0\.0\.1 [0-9]* $TCP_PORT 030000000e0400020004$(printf test | od -An -tx1 | tr -d ' \n')\$" "$WORK/dump" ||
	fail "dump lacks the BMP Initiation"
grep -q "^tcp 127\.0\.0\.1 [0-9]* $TCP_PORT ${FF}0015030602\$" "$WORK/dump" || fail "dump lacks the NOTIFICATION"
grep -q "^tcp 127\.0\.0\.1 [0-9]* $TCP_PORT $(printf 'hello sink' | od -An -tx1 | tr -d ' \n')\$" "$WORK/dump" ||
	fail "dump lacks the raw connection's bytes"

# --duration stops on its own and the table summary is printed.
timeout 20 "$BIN" sink --listen 127.0.0.1 --udp 0 --duration 0.3 >"$WORK/table.txt" 2>"$WORK/sink.err" ||
	fail "sink --duration did not exit 0"
grep -q '^total: 0 datagrams' "$WORK/table.txt" || fail "table summary missing: $(cat "$WORK/table.txt")"

# --idle stops once the traffic stopped.
"$BIN" sink --udp 0 --idle 0.3 --ready "$WORK/ready2" --json >"$WORK/idle.json" 2>"$WORK/sink.err" &
SINK_PID=$!
wait_for test -s "$WORK/ready2" || fail "the second sink did not write its ready file"
printf 'x' >"/dev/udp/127.0.0.1/$(awk '{ print $2 }' "$WORK/ready2")"
wait_for sh -c "! kill -0 $SINK_PID 2>/dev/null" || fail "sink --idle did not stop"
wait "$SINK_PID" || fail "sink --idle exit status"
SINK_PID=
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(s["totals"]["datagrams"] != 1)' "$WORK/idle.json" ||
	fail "sink --idle summary: $(cat "$WORK/idle.json")"

echo "PASS: sink"
exit 0
