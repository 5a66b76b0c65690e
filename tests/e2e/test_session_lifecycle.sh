#!/usr/bin/env bash
# TCP session lifecycles as third-party captures have them (issue 10, part 1).
#
# 1. A router that a BGP collector resets and refuses, as bird against gobgpd does
#    (tr-pcapgen --restarts 4): the collector ends the first session (NOTIFICATION, its own
#    FIN), refuses four new connections right after their OPEN (FIN, RST), then takes a
#    full session.  The router never sends a FIN.  Replayed at time_factor 0.01:
#    - to pmbgpd, which refuses a peer whose old session is still open: every session must
#      close when the capture says (whichever side ended it), one after the other, so that
#      the last session delivers all the routes; exit 0;
#    - the same capture with the exporter's side only (the collector's FINs not captured):
#      a new session of the router (a SYN) closes the older one first;
#    - to gobgpd, which refuses a peer for a few seconds after a reset (idle hold time): the
#      refused session is retried with its messages kept, and its Adj-RIB-In ends up with
#      every route; SIGINT after the last capture (keep_open) exits 0.
# 2. A BMP feed that continues mid-stream from another source port (no SYN, no Initiation),
#    as the corpus's ipfix-bmp-scenario parts 7 and 8 do: it must arrive on the one
#    connection, byte-exact, and pmbmpd (which drops a connection that starts without an
#    Initiation) must decode every message of it.
#
# Oracles: the generator's prefixes (count x records, each /24 once) and tshark's reading of
# the capture; on the collector side pmbgpd's msglog, gobgpd's Adj-RIB-In, the sink's dump
# and connection count, pmbmpd's msglog.
. "$(dirname "$0")/../lib.sh"

command -v pmbgpd >/dev/null || skip "pmbgpd (pmacct) is not installed (make test-deps)"
command -v pmbmpd >/dev/null || skip "pmbmpd (pmacct) is not installed (make test-deps)"
command -v gobgpd >/dev/null || skip "gobgpd is not installed (make test-deps)"
command -v gobgp >/dev/null || skip "gobgp (the GoBGP client) is not installed (make test-deps)"
command -v tshark >/dev/null || skip "tshark is not installed (make test-deps)"
command -v ss >/dev/null || skip "ss (iproute2) is not installed"
if [ ! -x "$TR" ] || [ ! -x "$GEN" ]; then fail "$TR and $GEN must be built first"; fi

COLLECTORS=$TR_SOURCE_DIR/tests/e2e/collectors
. "$COLLECTORS/pmacct-daemon.sh"
. "$COLLECTORS/gobgpd.sh"
UPDATES=20 RECORDS=10
ROUTES=$((UPDATES * RECORDS))

"$GEN" --proto bgp --count $UPDATES --records $RECORDS --restarts 4 --gap-us 1000 \
	--exporter 192.0.2.1 --out "$WORK/restarts.pcap" || fail "tr-pcapgen --restarts failed"
tshark -r "$WORK/restarts.pcap" -Y "tcp.dstport == 179" -w "$WORK/restarts-exporter.pcap" 2>/dev/null ||
	fail "tshark could not keep the exporter's side"
# The capture is what the test says it is: 6 connections, 5 ended by the collector, 4 with an RST.
[ "$(tshark -r "$WORK/restarts.pcap" -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0' 2>/dev/null | wc -l)" -eq 6 ] ||
	fail "the generated capture does not have 6 connections"
[ "$(tshark -r "$WORK/restarts.pcap" -Y 'tcp.srcport == 179 && tcp.flags.fin == 1' 2>/dev/null | wc -l)" -eq 5 ] ||
	fail "the generated capture does not have 5 sessions ended by the collector"
[ "$(tshark -r "$WORK/restarts.pcap" -Y 'tcp.dstport == 179 && tcp.flags.fin == 1' 2>/dev/null | wc -l)" -eq 0 ] ||
	fail "the generated capture has the router end a session"
WANT=$(tshark -r "$WORK/restarts.pcap" -Y 'tcp.dstport == 179' -T fields -e bgp.nlri_prefix 2>/dev/null |
	tr ',' '\n' | grep . | sort -u | wc -l)
[ "$WANT" -eq $ROUTES ] || fail "tshark finds $WANT distinct prefixes in the capture, $ROUTES expected"

# ---- pmbgpd -----------------------------------------------------------------------------
cat >"$WORK/pmbgpd.settings" <<CONF
bgp_daemon: true
bgp_daemon_max_peers: 100
bgp_disable_router_id_check: true
bgp_daemon_msglog_file: $WORK/bgp.msglog
bgp_daemon_msglog_output: json
CONF
pm_start pmbgpd pmbgpd bgp 127.0.0.1 "$WORK/pmbgpd.settings"
note "pmbgpd listening on 127.0.0.1:$PM_PORT"

# pmbgpd_last_session REPRO: distinct prefixes announced in the peer's last session, and the sessions it saw.
pmbgpd_last_session() {
	tr -d '\0' <"$WORK/bgp.msglog" | python3 -c 'import json, sys
peer, port, sessions, prefixes = sys.argv[1], None, 0, set()
for line in sys.stdin:
    try: d = json.loads(line)
    except ValueError: continue
    if d.get("peer_ip_src") != peer: continue
    if d.get("event_type") == "log_init":
        port, sessions, prefixes = d.get("peer_tcp_port"), sessions + 1, set()
    elif d.get("event_type") == "log" and d.get("peer_tcp_port") == port and d.get("log_type") == "update":
        prefixes.add(d.get("ip_prefix"))
print(len(prefixes), sessions)' "$1"
}

# pmbgpd_round NAME PCAP REPRO: replay, then the peer's last session must hold every route.
pmbgpd_round() {
	local name=$1 pcap=$2 repro=$3 rc=0 from got
	from=$(stat -c %s "$WORK/pmbgpd.log")
	{
		printf 'pcap: %s\ntime_factor: 0.01\nno_sync: true\nnetwork:\n  map:\n' "$pcap"
		printf '  - {src_ip: 192.0.2.1, repro_ip: %s}\n' "$repro"
		printf 'bgp:\n  select: {tcp: {dport: [179]}}\n  collector: {ip: 127.0.0.1, port: %s}\n' "$PM_PORT"
	} >"$WORK/$name.yml"
	timeout 120 "$TR" -v -t "$WORK/$name.yml" --stats-json "$WORK/$name.stats.json" 2>"$WORK/$name.log" || rc=$?
	[ $rc -eq 0 ] || { tail -30 "$WORK/$name.log" >&2; fail "$name: replay exited with $rc"; }
	[ "$(json_get "$WORK/$name.stats.json" 'd["tcp"]["sessions"]')" -eq 6 ] ||
		fail "$name: not 6 captured sessions: $(cat "$WORK/$name.stats.json")"
	[ "$(json_get "$WORK/$name.stats.json" 'd["sections"]["bgp"]["dropped"] + d["tcp"]["lost_bytes"]')" -eq 0 ] ||
		fail "$name: messages were lost: $(cat "$WORK/$name.stats.json")"
	pm_wait_closes "$WORK/bgp.msglog" peer_ip_src "$name's replay" "$repro"
	tail -c +$((from + 1)) "$WORK/pmbgpd.log" | tr -d '\0' | grep -a "Refusing new connection" &&
		fail "$name: pmbgpd refused a session of the replay (an older one was still open)"
	read -r got sessions < <(pmbgpd_last_session "$repro")
	[ "$sessions" -eq 6 ] || fail "$name: pmbgpd saw $sessions sessions of $repro, 6 expected"
	[ "$got" -eq $ROUTES ] ||
		fail "$name: pmbgpd holds $got of the $ROUTES routes in the peer's last session"
	note "$name: 6 sessions one after the other; the last one holds all $ROUTES routes; exit 0"
}
pmbgpd_round restarts "$WORK/restarts.pcap" 127.0.10.2
grep -q "the captured collector ended the session (FIN" "$WORK/restarts.log" ||
	fail "restarts: the collector's FIN did not end a session"
pmbgpd_round restarts-exporter-only "$WORK/restarts-exporter.pcap" 127.0.10.3
[ "$(grep -c "a new session of the router to the collector" "$WORK/restarts-exporter-only.log")" -eq 5 ] ||
	fail "restarts-exporter-only: the 5 older sessions were not closed for the new ones"
pm_stop

# ---- gobgpd -----------------------------------------------------------------------------
GO_PID="" TR_PID=""
go_cleanup() {
	[ -z "$TR_PID" ] || kill -INT "$TR_PID" 2>/dev/null || true
	[ -z "$GO_PID" ] || kill "$GO_PID" 2>/dev/null || true
	return 0
}
cleanup_hooks+=(go_cleanup)
REPRO=127.0.10.4
AS=$(tshark -r "$WORK/restarts.pcap" -Y 'bgp.type == 1 && tcp.dstport == 179' -T fields -e bgp.cap.4as 2>/dev/null | head -1)
[ -n "$AS" ] || fail "tshark finds no AS in the capture's OPEN"
gobgpd_start "$WORK/gobgpd.log" "$REPRO" "$AS"
{
	printf 'pcap: %s\ntime_factor: 0.01\nno_sync: true\nkeep_open: true\nnetwork:\n  map:\n' "$WORK/restarts.pcap"
	printf '  - {src_ip: 192.0.2.1, repro_ip: %s}\n' "$REPRO"
	printf 'bgp:\n  select: {tcp: {dport: [179]}}\n  collector: {ip: 127.0.0.1, port: %s}\n' "$BGP_PORT"
} >"$WORK/gobgp.yml"
timeout 120 "$TR" -v -t "$WORK/gobgp.yml" --stats-json "$WORK/gobgp.stats.json" 2>"$WORK/gobgp.log" &
TR_PID=$!
got=0
for _ in $(seq 1 400); do
	kill -0 "$GO_PID" 2>/dev/null || { tail "$WORK/gobgpd.log"; fail "gobgpd is gone during the replay"; }
	kill -0 "$TR_PID" 2>/dev/null || { tail -30 "$WORK/gobgp.log" >&2; fail "the replay ended before SIGINT despite keep_open"; }
	# The Adj-RIB-In of the last session, read once the replay has played every capture.
	# It is read in the loop, not after it: a refused OPEN may still be retried after "all
	# captures played", and the first session's routes count until its captured end resets
	# it, so only a read that succeeds with every route ends the wait.
	if grep -q "keep_open: all captures played" "$WORK/gobgp.log" &&
		gobgp_ neighbor "$REPRO" adj-in -a ipv4 -j >"$WORK/adjin.json" 2>/dev/null; then
		got=$(python3 -c 'import json, sys
try: d = json.load(open(sys.argv[1]))
except ValueError: d = {}
print(len(d) if isinstance(d, (dict, list)) else 0)' "$WORK/adjin.json")
		[ "$got" -lt $ROUTES ] || break
	fi
	sleep 0.1
done
[ "$got" -eq $ROUTES ] || { tail -30 "$WORK/gobgp.log" >&2; fail "gobgpd holds $got of the $ROUTES routes within 40 s"; }
# The very prefixes of the capture, not just as many.
diff <(python3 -c 'import json, sys
print("\n".join(sorted(json.load(open(sys.argv[1])))))' "$WORK/adjin.json") \
	<(tshark -r "$WORK/restarts.pcap" -Y 'tcp.dstport == 179' -T fields -e bgp.nlri_prefix 2>/dev/null |
		tr ',' '\n' | grep . | sort -u | sed 's|$|/24|') >"$WORK/adjin.diff" ||
	{ head "$WORK/adjin.diff"; fail "gobgpd's Adj-RIB-In is not the capture's prefix set"; }
kill -INT "$TR_PID"
rc=0; wait "$TR_PID" || rc=$?; TR_PID=""
[ $rc -eq 0 ] || { tail -30 "$WORK/gobgp.log" >&2; fail "gobgpd round: exit $rc on SIGINT after the last capture"; }
[ "$(json_get "$WORK/gobgp.stats.json" 'd["sections"]["bgp"]["dropped"] + d["tcp"]["lost_bytes"]')" -eq 0 ] ||
	fail "gobgpd round: messages were lost: $(cat "$WORK/gobgp.stats.json")"
refusals=$(json_get "$WORK/gobgp.stats.json" 'd["tcp"]["bgp_open_refusals"]')
grep -q "Closed an accepted connection" "$WORK/gobgpd.log" ||
	note "gobgpd refused no connection this time (its idle hold was over): the retry path was not needed"
note "gobgpd: Adj-RIB-In holds all $ROUTES routes; $refusals refused OPENs retried with their messages kept; exit 0"
kill "$GO_PID"; wait "$GO_PID" 2>/dev/null || true; GO_PID=""

# ---- a BMP feed continued from another port, mid-stream -----------------------------------
"$GEN" --proto bmp --count 40 --exporter 192.0.2.9 --out "$WORK/bmp.pcap" --expect "$WORK/bmp.expect" ||
	fail "tr-pcapgen bmp failed"
python3 "$TR_SOURCE_DIR/tests/e2e/pcap_port_move.py" "$WORK/bmp.pcap" "$WORK/moved.pcap" \
	--port 50000 --after 20 --to 50999 2>"$WORK/move.log" || { cat "$WORK/move.log"; fail "pcap_port_move failed"; }
tshark -r "$WORK/moved.pcap" -Y 'tcp.srcport == 50999 && tcp.flags.syn == 1' 2>/dev/null | grep -q . &&
	fail "the moved part has a SYN"
EXPECTED=$(tshark -r "$WORK/bmp.pcap" -Y 'tcp.dstport == 1790 && tcp.len > 0' -T fields -e tcp.payload 2>/dev/null | tr -d '\n')
[ -n "$EXPECTED" ] || fail "tshark finds no BMP bytes in the capture"

# moved_replay NAME PORT REPRO: the moved capture to 127.0.0.1:PORT; exit 0, one session joined.
moved_replay() {
	local name=$1 port=$2 repro=$3 rc=0
	{
		printf 'pcap: %s\ntime_factor: 0\nno_sync: true\nnetwork:\n  map:\n' "$WORK/moved.pcap"
		printf '  - {src_ip: 192.0.2.9, repro_ip: %s}\n' "$repro"
		printf 'bmp:\n  select: {tcp: {dport: [1790]}}\n  collector: {ip: 127.0.0.1, port: %s}\n' "$port"
	} >"$WORK/$name.yml"
	timeout 60 "$TR" -v -t "$WORK/$name.yml" --stats-json "$WORK/$name.stats.json" 2>"$WORK/$name.log" || rc=$?
	[ $rc -eq 0 ] || { tail -30 "$WORK/$name.log" >&2; fail "$name: replay exited with $rc"; }
	[ "$(json_get "$WORK/$name.stats.json" 'd["tcp"]["sessions"]')" -eq 2 ] ||
		fail "$name: not 2 captured sessions: $(cat "$WORK/$name.stats.json")"
	[ "$(json_get "$WORK/$name.stats.json" 'd["tcp"]["sessions_joined"]')" -eq 1 ] ||
		fail "$name: the summary does not count the joined capture: $(cat "$WORK/$name.stats.json")"
}

start_sink sink "$TR" sink --tcp 0
moved_replay moved-sink "$(ready_port "$WORK/sink.ready" tcp)" 127.0.10.5
stop_sink
[ "$(json_get "$WORK/sink.json" 'sum(t["connections"] for t in d["tcp"])')" -eq 1 ] ||
	fail "the feed arrived over more than one connection: $(cat "$WORK/sink.json")"
GOT=$(awk '$1 == "tcp" { printf "%s", $5 }' "$WORK/sink.dump")
[ "$GOT" = "$EXPECTED" ] || fail "the feed did not arrive byte-exact on its connection (${#GOT} of ${#EXPECTED} hex digits)"
note "moved feed at the sink: one connection, $((${#GOT} / 2)) bytes byte-exact, 1 session joined"
start_sink sink "$TR" sink --tcp 0

# Two BMP sessions of one router to one collector at once, each with its SYN, their
# segments interleaved (BMP speakers may do this): both carry on, each on its connection.
"$GEN" --proto bmp --count 30 --exporter 192.0.2.9 --sport 51000 --out "$WORK/bmp-a.pcap" ||
	fail "tr-pcapgen bmp failed"
"$GEN" --proto bmp --count 30 --exporter 192.0.2.9 --sport 52000 --start 1700000000 --gap-us 1100 \
	--out "$WORK/bmp-b.pcap" || fail "tr-pcapgen bmp failed"
mergecap -F pcap -w "$WORK/beside.pcap" "$WORK/bmp-a.pcap" "$WORK/bmp-b.pcap" || fail "mergecap failed"
{
	printf 'pcap: %s\ntime_factor: 0\nno_sync: true\nnetwork:\n  map:\n' "$WORK/beside.pcap"
	printf '  - {src_ip: 192.0.2.9, repro_ip: 127.0.10.7}\n'
	printf 'bmp:\n  select: {tcp: {dport: [1790]}}\n  collector: {ip: 127.0.0.1, port: %s}\n' "$(ready_port "$WORK/sink.ready" tcp)"
} >"$WORK/beside.yml"
rc=0
timeout 60 "$TR" -v -t "$WORK/beside.yml" --stats-json "$WORK/beside.stats.json" 2>"$WORK/beside.log" || rc=$?
[ $rc -eq 0 ] || { tail -30 "$WORK/beside.log" >&2; fail "beside: replay exited with $rc"; }
grep -q "runs beside" "$WORK/beside.log" || fail "beside: the second session was not seen as running beside the first"
for port in 51000 52000; do
	want=$(tshark -r "$WORK/beside.pcap" -Y "tcp.srcport == $port && tcp.len > 0" -T fields -e tcp.payload 2>/dev/null |
		tr -d '\n')
	[ -n "$want" ] || fail "tshark finds no BMP bytes from port $port"
	echo "$want"
done | sort >"$WORK/beside.expected"
for _ in $(seq 1 50); do
	awk '$1 == "tcp" { s[$3] = s[$3] $5 } END { for (k in s) print s[k] }' "$WORK/sink.dump" |
		sort >"$WORK/beside.got"
	cmp -s "$WORK/beside.expected" "$WORK/beside.got" && break
	sleep 0.1
done
cmp -s "$WORK/beside.expected" "$WORK/beside.got" ||
	fail "beside: the sink did not get both sessions byte-exact, each on its own connection"
note "two sessions of one router at once: two connections, both byte-exact"
stop_sink

# pmbmpd drops what a connection sends without an Initiation: it must decode all of it.
cat >"$WORK/pmbmpd.settings" <<CONF
bmp_daemon_max_peers: 100
bmp_daemon_msglog_file: $WORK/bmp.msglog
bmp_daemon_msglog_output: json
CONF
pm_start pmbmpd pmbmpd bmp 127.0.0.1 "$WORK/pmbmpd.settings"
moved_replay moved-pmbmpd "$PM_PORT" 127.0.10.6
pm_wait_closes "$WORK/bmp.msglog" bmp_router "the moved feed's replay" 127.0.10.6
python3 "$COLLECTORS/pmcheck.py" bmp --debuglog "$WORK/pmbmpd.log" --msglog "$WORK/bmp.msglog" \
	--tshark "$WORK/bmp.pcap" --port 1790 --expect "$WORK/bmp.expect" --map 192.0.2.9=127.0.10.6 \
	--allow-other >"$WORK/moved.check" || fail "pmbmpd did not decode the moved feed as the capture holds it"
note "moved feed at pmbmpd: $(cat "$WORK/moved.check")"
pm_stop

echo PASS
