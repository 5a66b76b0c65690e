#!/usr/bin/env bash
# -p on generated captures: re-segmentation (1, 500, 1424 bytes of payload per segment, messages
# never split but one larger than a frame), every generated message kept, udp_generic and
# tcp_generic as captured, tshark reads the output without warnings, the retiming rules (1 s
# after a BGP OPEN, 5 s before a BMP Peer Down and the same peer's Peer Up after it), the BGP
# collector's OPEN kept (trim_capabilities works on the output), captures merged by
# timestamp, repeat and optimize carried over, the outputs renamed into place (no temporary
# left, the usual file mode, the summary naming traffic.pcap), exit: false replays the result; bad input (nothing selected, a session without
# OPEN/Initiation, templates never seen, a missing capture): clear messages, exit codes, and the
# info JSON says what was dropped.
. "$(dirname "$0")/../lib.sh"

command -v tshark >/dev/null || skip "tshark is not installed (make test-deps)"
CHECK=$TR_SOURCE_DIR/tests/interop/preproc_check.py
EXP=(--exporter 192.0.2.1 --exporter 2001:db8::5)

# cfg NAME SECTION DPORT SIZE PCAP...: a raw config writing into $WORK/NAME.
cfg() {
	local name=$1 section=$2 dport=$3 size=$4 l4=tcp; shift 4
	case $section in ipfix | udp_generic) l4=udp ;; esac
	{
		printf 'pcap: [%s]\n' "$(IFS=,; echo "$*")"
		printf 'pcap_processing:\n  output_folder: %s\n  desired_tcp_payload_size: %s\n' "$WORK/$name" "$size"
		printf '%s:\n  select:\n    %s:\n      dport: [%s]\n' "$section" "$l4" "$dport"
	} >"$WORK/$name.yml"
}

# pp NAME [EXPECTED_EXIT]: -p with $WORK/NAME.yml; stderr in $WORK/NAME.err.
pp() {
	local rc=0
	"$TR" -p -t "$WORK/$1.yml" 2>"$WORK/$1.err" || rc=$?
	[ $rc -eq "${2:-0}" ] || { cat "$WORK/$1.err" >&2; fail "$1: -p exited with $rc, not ${2:-0}"; }
}
kept() { json_get "$WORK/$1/traffic-info.json" "d['pcap_processing']['sections']['$2']['$3']"; }

# 1. BMP re-segmentation: the generated stream is cut into 100-byte segments, with noise
# (unselected frames, keep-alive probes in the session) around it.
"$GEN" --proto bmp --count 120 "${EXP[@]}" --dport 1790 --segment 100 --noise \
	--out "$WORK/bmp.pcap" --expect "$WORK/bmp.expect"
want=$(wc -l <"$WORK/bmp.expect")
for size in 1 500 1424; do
	name=bmp-$size
	cfg "$name" bmp 1790 "$size" "$WORK/bmp.pcap"
	pp "$name"
	out=$WORK/$name/traffic.pcap
	[ "$(kept "$name" bmp messages_kept)" -eq "$want" ] || fail "$name: kept $(kept "$name" bmp messages_kept) of $want messages"
	python3 "$CHECK" expert "$WORK/bmp.pcap" "$out" -d tcp.port==1790,bmp >"$WORK/$name.expert" ||
		{ cat "$WORK/$name.expert" >&2; fail "$name: tshark reports problems"; }
	python3 "$CHECK" count "$out" "$WORK/$name/traffic-info.json" 1790 >/dev/null || fail "$name: counts"
	# Every data segment: at most SIZE bytes, or one message on its own; with 1, one message.
	tshark -r "$out" -d tcp.port==1790,bmp -Y 'tcp.len > 0' -T fields -e tcp.len -e bmp.type 2>/dev/null |
		awk -v size="$size" '{ n = split($2, t, ",") }
		n == 0 || (n > 1 && ($1 > size || size == 1)) { print "frame " NR ": " $1 " bytes, " n " messages"; bad = 1 }
		END { exit bad }' || fail "$name: a segment breaks the size rule"
	note "$name: $(tshark -r "$out" -Y 'tcp.len > 0' 2>/dev/null | wc -l) data segments for $want messages"
done
# Smaller sizes make more segments.
n1=$(tshark -r "$WORK/bmp-1/traffic.pcap" -Y 'tcp.len > 0' 2>/dev/null | wc -l)
n1424=$(tshark -r "$WORK/bmp-1424/traffic.pcap" -Y 'tcp.len > 0' 2>/dev/null | wc -l)
[ "$n1" -eq "$want" ] && [ "$n1424" -lt "$n1" ] || fail "segments: $n1 at size 1, $n1424 at 1424"

# 5 s before each Peer Down (size 1: it starts its own segment).
tshark -r "$WORK/bmp-1/traffic.pcap" -d tcp.port==1790,bmp -Y 'tcp.srcport != 1790' -T fields -e frame.time_delta_displayed -e bmp.type 2>/dev/null |
	awk '$2 == "2" { n++; if ($1 < 5) bad = 1 } END { exit bad || n != 2 }' ||
	fail "bmp: not 5 s before each of the 2 Peer Downs"
# The first frame at the reference time plus initial_delay (default 5 s).
[ "$(tshark -r "$WORK/bmp-1/traffic.pcap" -c 1 -T fields -e frame.time_epoch 2>/dev/null)" = 1577836805.000000000 ] ||
	fail "bmp: the first frame is not at 2020-01-01T00:00:05Z"

# 5 s before a Peer Down and before the Peer Up that follows it, each at the start of its
# segment, even when packing (1424).
python3 "$TR_SOURCE_DIR/tests/e2e/bmp_peer_cycle.py" "$WORK/cycle.pcap"
cfg cycle bmp 1790 1424 "$WORK/cycle.pcap"
pp cycle
python3 "$CHECK" timing "$WORK/cycle/traffic.pcap" -d tcp.port==1790,bmp >"$WORK/cycle.timing" ||
	{ cat "$WORK/cycle.timing" >&2; fail "cycle: the Peer Down/Up delays do not hold"; }
grep -q "^--- timing: 2 Peer Down/Up" "$WORK/cycle.timing" || fail "cycle: $(cat "$WORK/cycle.timing")"
[ "$(kept cycle bmp messages_kept)" -eq 7 ] || fail "cycle: messages lost"
# A 100,000-byte message: more than one frame carries, so it is the one split over segments
# (of 60,000 bytes at most); the output replays to the sink as the captured message.
python3 "$TR_SOURCE_DIR/tests/e2e/bmp_peer_cycle.py" "$WORK/big.pcap" big
cfg big bmp 1790 1424 "$WORK/big.pcap"
pp big
[ "$(kept big bmp messages_kept)" -eq 7 ] && [ "$(kept big bmp messages_split)" -eq 1 ] ||
	fail "big: $(json_get "$WORK/big/traffic-info.json" "d['pcap_processing']['sections']['bmp']")"
[ "$(tshark -r "$WORK/big/traffic.pcap" -Y 'tcp.len > 0' -T fields -e tcp.len 2>/dev/null | sort -n | tail -1)" -le 60000 ] ||
	fail "big: a segment over 60,000 bytes"
python3 "$CHECK" expert "$WORK/big.pcap" "$WORK/big/traffic.pcap" -d tcp.port==1790,bmp >"$WORK/big.expert" ||
	{ cat "$WORK/big.expert" >&2; fail "big: tshark reports problems"; }
start_sink bigsink "$TR" sink --listen 127.0.0.1 --tcp 0
sed -e 's/repro_ip: <MISSING_PARAM>/repro_ip: 127.0.0.1/' -e 's/ip: <MISSING_PARAM>/ip: 127.0.0.1/' \
	-e "s/^    port: .*/    port: $(ready_port "$WORK/bigsink.ready" tcp)/" -e 's/^time_factor: .*/time_factor: 0/' \
	-e 's/^no_sync: .*/no_sync: true/' "$WORK/big/traffic-reproducer.yml" >"$WORK/big.replay.yml"
"$TR" -t "$WORK/big.replay.yml" 2>"$WORK/big.replay.err" || { cat "$WORK/big.replay.err" >&2; fail "big: replay"; }
sleep 0.3
stop_sink
diff <(python3 - "$WORK/big.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()[24:]
data = b""
while d:
    n = struct.unpack("<I", d[8:12])[0]
    data += d[16 + 54:16 + n]
    d = d[16 + n:]
while data:
    n = struct.unpack("!I", data[1:5])[0]
    print(data[:n].hex())
    data = data[n:]
PY
) <(awk '$1 == "tcp" { print $5 }' "$WORK/bigsink.dump") >/dev/null || fail "big: the sink did not get the captured messages"
note "big: a 100,000-byte message split over segments, replayed whole"

# Two monitored peers down, back up in the other order: each Peer Up after its own peer's
# Peer Down gets the delay, whatever the other peer did.
python3 "$TR_SOURCE_DIR/tests/e2e/bmp_peer_cycle.py" "$WORK/peers.pcap" two-peers
cfg peers bmp 1790 1424 "$WORK/peers.pcap"
pp peers
python3 "$CHECK" timing "$WORK/peers/traffic.pcap" -d tcp.port==1790,bmp >"$WORK/peers.timing" ||
	{ cat "$WORK/peers.timing" >&2; fail "peers: the Peer Down/Up delays do not hold per peer"; }
grep -q "^--- timing: 4 Peer Down/Up" "$WORK/peers.timing" || fail "peers: $(cat "$WORK/peers.timing")"

# The exporter connects again from the same port: the first session is closed (FIN), the
# second gets its own handshake; every message kept, tshark without warnings.
python3 "$TR_SOURCE_DIR/tests/e2e/bmp_peer_cycle.py" "$WORK/restart.pcap" restart
cfg restart bmp 1790 1424 "$WORK/restart.pcap"
pp restart
[ "$(kept restart bmp messages_kept)" -eq 9 ] || fail "restart: messages lost"
[ "$(tshark -r "$WORK/restart/traffic.pcap" -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0' 2>/dev/null | wc -l)" -eq 2 ] &&
	[ "$(tshark -r "$WORK/restart/traffic.pcap" -Y 'tcp.flags.fin == 1 && tcp.srcport == 40000' 2>/dev/null | wc -l)" -eq 1 ] ||
	fail "restart: not two sessions, the first closed"
python3 "$CHECK" expert "$WORK/restart.pcap" "$WORK/restart/traffic.pcap" -d tcp.port==1790,bmp >"$WORK/restart.expert" ||
	{ cat "$WORK/restart.expert" >&2; fail "restart: tshark reports problems"; }

# 2. BGP: 1 s after each OPEN (the exporter's next frame; the collector's ACK of the OPEN
# has its time); messages kept; no warnings.
"$GEN" --proto bgp --count 60 "${EXP[@]}" --dport 179 --segment 50 --noise --out "$WORK/bgp.pcap" --expect "$WORK/bgp.expect"
cfg bgp bgp 179 1424 "$WORK/bgp.pcap"
pp bgp
[ "$(kept bgp bgp messages_kept)" -eq "$(wc -l <"$WORK/bgp.expect")" ] || fail "bgp: messages lost"
python3 "$CHECK" expert "$WORK/bgp.pcap" "$WORK/bgp/traffic.pcap" >"$WORK/bgp.expert" ||
	{ cat "$WORK/bgp.expert" >&2; fail "bgp: tshark reports problems"; }
tshark -r "$WORK/bgp/traffic.pcap" -Y 'tcp.srcport != 179 && tcp.len > 0' -T fields -e frame.time_delta_displayed -e bgp.type 2>/dev/null |
	awk 'open { n++; if ($1 < 1) bad = 1 } { open = ($2 ~ /(^|,)1(,|$)/) } END { exit bad || n != 2 }' ||
	fail "bgp: not 1 s after each OPEN"
# The collector's OPEN is kept, right after the exporter's (one per session, from port 179),
# so that bgp.open.trim_capabilities works on the output: the exporter offers ADD-PATH, its
# collector does not; the output replayed (exit: false) with the key: the OPEN arrives
# without ADD-PATH, its lengths recomputed.
[ "$(kept bgp bgp collector_opens_kept)" -eq 2 ] &&
	[ "$(tshark -r "$WORK/bgp/traffic.pcap" -Y 'tcp.srcport == 179 && bgp.type == 1' 2>/dev/null | wc -l)" -eq 2 ] ||
	fail "bgp: the collectors' OPENs are not in the output"
"$GEN" --proto bgp --count 5 --exporter 192.0.2.2 --add-path --out "$WORK/ap.pcap"
cfg ap bgp 179 1424 "$WORK/ap.pcap"
start_sink trim "$TR" sink --listen 127.0.0.1 --tcp 0
{
	sed 's/^pcap_processing:/pcap_processing:\n  exit: false/' "$WORK/ap.yml"
	printf '  collector: {ip: 127.0.0.1, port: %s}\n  open: {trim_capabilities: true}\n' \
		"$(ready_port "$WORK/trim.ready" tcp)"
	printf 'network:\n  map:\n  - {src_ip: 192.0.2.2, repro_ip: 127.0.0.1}\ntime_factor: 0\nno_sync: true\n'
} >"$WORK/trim.yml"
pp trim
stop_sink
captured_open=$(tshark -r "$WORK/ap.pcap" -Y 'ip.src == 192.0.2.2 && bgp.type == 1' -T fields -e tcp.payload 2>/dev/null | head -1)
case $captured_open in *450400010103) ;; *) fail "trim: the generated OPEN ($captured_open) does not end with ADD-PATH" ;; esac
# 6 bytes less: message length 0x31 -> 0x2b, optional parameters 0x14 -> 0x0e, capabilities 0x12 -> 0x0c.
want=${captured_open:0:32}002b${captured_open:36:20}0e020c${captured_open:62:24}
got=$(awk '$1 == "tcp" { print $5; exit }' "$WORK/trim.dump")
[ "$got" = "$want" ] || fail "trim: the OPEN of the -p output arrived as $got, expected $want"
note "bgp: the collectors' OPENs kept; trim_capabilities on the output removed ADD-PATH"

# 3. Captures merged by timestamp: two IPFIX captures whose datagrams interleave.
"$GEN" --proto ipfix --count 20 --exporter 192.0.2.1 --dport 4739 --gap-us 1000 --out "$WORK/a.pcap"
"$GEN" --proto ipfix --count 20 --exporter 192.0.2.2 --dport 4739 --gap-us 1500 --out "$WORK/b.pcap"
cfg merge ipfix 4739 1424 "$WORK/a.pcap" "$WORK/b.pcap"
pp merge
# By timestamp; equal timestamps in the order of the pcap list (a stable sort).
diff <(for f in a b; do tshark -r "$WORK/$f.pcap" -Y udp -T fields -e frame.time_epoch -e ip.src -e udp.payload 2>/dev/null; done |
	sort -s -k1,1n | cut -f2-) \
	<(tshark -r "$WORK/merge/traffic.pcap" -Y udp -T fields -e ip.src -e udp.payload 2>/dev/null) >/dev/null ||
	fail "merge: the output is not the captures merged by timestamp"
# Determinism.
cp "$WORK/merge/traffic.pcap" "$WORK/merge.first.pcap"
pp merge
cmp -s "$WORK/merge/traffic.pcap" "$WORK/merge.first.pcap" || fail "merge: a second run differs"
# The outputs are written under temporary names and renamed into place at the end: the folder
# holds the three files and no temporary, each with the mode a new file gets (not mkstemp's
# 0600), and the summary names traffic.pcap, not the temporary it read.
[ "$(ls -A "$WORK/merge" | LC_ALL=C sort | tr '\n' ' ')" = "traffic-info.json traffic-reproducer.yml traffic.pcap " ] ||
	fail "merge: the folder holds $(ls -A "$WORK/merge")"
mode=$(printf '%o' $((0666 & ~0$(umask))))
for f in traffic.pcap traffic-reproducer.yml traffic-info.json; do
	[ "$(stat -c %a "$WORK/merge/$f")" = "$mode" ] || fail "merge: $f has mode $(stat -c %a "$WORK/merge/$f"), not $mode"
done
[ "$(json_get "$WORK/merge/traffic-info.json" "d['captures'][0]['file']")" = "$WORK/merge/traffic.pcap" ] ||
	fail "merge: the summary names $(json_get "$WORK/merge/traffic-info.json" "d['captures'][0]['file']")"
# repeat carries over into the written config when every capture had the same count (the
# captures become one); different counts: left out, with a warning and a comment.  The
# optimize block carries over whole.
cfg rep ipfix 4739 1424 "$WORK/a.pcap" "$WORK/b.pcap"
printf 'repeat: {count: [3, 3], pattern: bulk}\n' >>"$WORK/rep.yml"
printf 'optimize: {threading: true, network: {so_sndbuf: 65536, so_rcvbuf: 131072}}\n' >>"$WORK/rep.yml"
pp rep
sed 's/<MISSING_PARAM>/127.0.0.1/' "$WORK/rep/traffic-reproducer.yml" >"$WORK/rep.filled.yml"
"$TR" -n -t "$WORK/rep.filled.yml" >"$WORK/rep.n"
grep -q 'count: \[3\]' "$WORK/rep.n" || fail "rep: repeat count 3 not carried over"
grep -q '^  threading: true$' "$WORK/rep.n" && grep -q '^    so_sndbuf: 65536$' "$WORK/rep.n" &&
	grep -q '^    so_rcvbuf: 131072$' "$WORK/rep.n" || fail "rep: optimize not carried over: $(grep -A5 '^optimize:' "$WORK/rep.n")"
sed -i 's/count: \[3, 3\]/count: [2, 3]/' "$WORK/rep.yml"
pp rep
grep -q '^repeat:' "$WORK/rep/traffic-reproducer.yml" && fail "rep: different counts written as one"
grep -q '^# repeat: {count: \[2\]}' "$WORK/rep/traffic-reproducer.yml" && grep -q "repeat counts differ" "$WORK/rep.err" ||
	fail "rep: no comment or warning for different repeat counts"

# Generic sections: udp_generic datagrams as captured; tcp_generic the exporter's stream
# byte for byte (no framing), in segments of at most the size.
"$GEN" --proto udp --count 30 "${EXP[@]}" --dport 9999 --out "$WORK/udp.pcap"
cfg udpg udp_generic 9999 1424 "$WORK/udp.pcap"
pp udpg
diff <(tshark -r "$WORK/udp.pcap" -Y 'udp.dstport == 9999' -T fields -e udp.payload 2>/dev/null) \
	<(tshark -r "$WORK/udpg/traffic.pcap" -Y udp -T fields -e udp.payload 2>/dev/null) >/dev/null ||
	fail "udp_generic: datagrams differ"
"$GEN" --proto bmp --count 50 --exporter 192.0.2.1 --dport 1790 --segment 100 --out "$WORK/raw.pcap"
cfg tcpg tcp_generic 1790 500 "$WORK/raw.pcap"
pp tcpg
stream() { tshark -r "$1" -Y 'tcp.dstport == 1790 && tcp.len > 0' -T fields -e tcp.payload 2>/dev/null | tr -d '\n'; }
[ "$(stream "$WORK/raw.pcap")" = "$(stream "$WORK/tcpg/traffic.pcap")" ] || fail "tcp_generic: the stream differs"
python3 "$CHECK" expert "$WORK/raw.pcap" "$WORK/tcpg/traffic.pcap" >"$WORK/tcpg.expert" ||
	{ cat "$WORK/tcpg.expert" >&2; fail "tcp_generic: tshark reports problems"; }
tshark -r "$WORK/tcpg/traffic.pcap" -Y 'tcp.len > 500' 2>/dev/null | grep -q . && fail "tcp_generic: a segment over 500 bytes"

# 4. exit: false replays the result (the input config has a map and a collector).
start_sink replay "$TR" sink --listen 127.0.0.1 --udp 0
port=$(ready_port "$WORK/replay.ready" udp)
{
	cat "$WORK/merge.yml" | sed 's/^pcap_processing:/pcap_processing:\n  exit: false/'
	printf '  collector: {ip: 127.0.0.1, port: %s}\n' "$port"
	printf 'network:\n  map:\n  - {src_ip: 192.0.2.1, repro_ip: 127.0.0.1}\n  - {src_ip: 192.0.2.2, repro_ip: 127.0.0.1}\n'
	printf 'time_factor: 0\nno_sync: true\n'
} >"$WORK/goon.yml"
sed -i "s#output_folder: .*#output_folder: $WORK/goon#" "$WORK/goon.yml"
pp goon
sleep 0.3
stop_sink
diff <(tshark -r "$WORK/goon/traffic.pcap" -Y udp -T fields -e udp.payload 2>/dev/null | sort) \
	<(awk '$1 == "udp" { print $5 }' "$WORK/replay.dump" | sort) >/dev/null ||
	fail "exit: false: the sink did not get the output's datagrams"
grep -q MISSING_PARAM "$WORK/goon/traffic-reproducer.yml" && fail "exit: false: placeholders although the config had everything"

# 5. Bad input.
# Nothing selected: exit 1, the summary counts the unselected packets, no config (a previous
# run's, which describes another traffic.pcap, is removed).
cfg none ipfix 4739 1424 "$WORK/a.pcap"
pp none
sed -i 's/dport: \[4739\]/dport: [9]/' "$WORK/none.yml"
pp none 1
grep -q "nothing to replay" "$WORK/none.err" || fail "none: no clear message"
grep -q "no packet of the captures matches its select" "$WORK/none.err" || fail "none: does not name the section"
[ "$(json_get "$WORK/none/traffic-info.json" "d['pcap_processing']['packets_unselected'] == d['pcap_processing']['packets_read'] > 0")" = True ] ||
	fail "none: JSON"
[ ! -e "$WORK/none/traffic-reproducer.yml" ] || fail "none: a config was written"

# BGP sessions without their OPEN (the capture starts after it).
last_open=$(tshark -r "$WORK/bgp.pcap" -Y 'bgp.type == 1' -T fields -e frame.number 2>/dev/null | tail -1)
editcap -F pcap -r "$WORK/bgp.pcap" "$WORK/bgp-late.pcap" "$((last_open + 1))-1000000"
cfg noopen bgp 179 1424 "$WORK/bgp-late.pcap"
pp noopen 1
grep -q "before its first OPEN were dropped" "$WORK/noopen.err" || fail "noopen: no clear message"
[ "$(kept noopen bgp dropped_before_open)" -gt 0 ] && [ "$(kept noopen bgp messages_kept)" -eq 0 ] || fail "noopen: JSON"

# BMP without its Initiation.
last_init=$(tshark -r "$WORK/bmp.pcap" -d tcp.port==1790,bmp -Y 'bmp.type == 4' -T fields -e frame.number 2>/dev/null | tail -1)
editcap -F pcap -r "$WORK/bmp.pcap" "$WORK/bmp-late.pcap" "$((last_init + 1))-1000000"
cfg noinit bmp 1790 1424 "$WORK/bmp-late.pcap"
pp noinit 1
grep -q "before its first Initiation were dropped" "$WORK/noinit.err" || fail "noinit: no clear message"
[ "$(kept noinit bmp dropped_before_initiation)" -gt 0 ] || fail "noinit: JSON"

# IPFIX templates never seen: every data set is an orphan.
"$GEN" --proto ipfix --count 10 --exporter 192.0.2.1 --dport 4739 --skip-templates --out "$WORK/notpl.pcap"
cfg notpl ipfix 4739 1424 "$WORK/notpl.pcap"
pp notpl 1
grep -q "came before their template" "$WORK/notpl.err" || fail "notpl: no clear message"
[ "$(kept notpl ipfix orphan_sets_dropped)" -eq 10 ] || fail "notpl: JSON orphan_sets_dropped"

# exit: false, but the written config has placeholders (no map, no collector): the files are
# written, the replay is refused, and the message names the placeholder.
cfg ph ipfix 4739 1424 "$WORK/a.pcap"
sed -i 's/^pcap_processing:/pcap_processing:\n  exit: false/' "$WORK/ph.yml"
pp ph 2
grep -q "cannot be replayed as it is" "$WORK/ph.err" && grep -q "MISSING_PARAM" "$WORK/ph.err" ||
	{ cat "$WORK/ph.err" >&2; fail "ph: no clear message"; }
[ -s "$WORK/ph/traffic.pcap" ] || fail "ph: nothing written"

# A missing capture: exit 2, named.
cfg missing ipfix 4739 1424 "$WORK/nope.pcap"
pp missing 2
grep -q "nope.pcap" "$WORK/missing.err" || fail "missing: the capture is not named"
