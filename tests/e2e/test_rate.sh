#!/usr/bin/env bash
# Rate and duration controls (issue 15): --limit, --duration, --loop (loop_exporters same and shift),
# --pps, --mbps, --topspeed against the built-in sink.  Counts only: timings are measured by bench/rate.sh, never asserted here.
. "$(dirname "$0")/../lib.sh"

command -v python3 >/dev/null || skip "python3 is needed to read the JSON summaries"
[ -x "$TR" ] && [ -x "$GEN" ] || fail "$TR and $GEN must be built first"

# 1000 generic datagrams from two exporters, 1 ms apart (a 1 s capture);
# a BGP session whose frames are 0.5 s apart (its UPDATEs come after 2 s).
"$GEN" --proto udp --count 1000 --exporter 192.0.2.1 --exporter 192.0.2.2 --dport 5000 --out "$WORK/udp.pcap"
"$GEN" --proto bgp --count 20 --exporter 192.0.2.9 --gap-us 500000 --out "$WORK/bgp.pcap"

config() {
	cat <<YAML
pcap: [$1]
time_factor: 1
no_sync: true
network:
  map:
  - {src_ip: 192.0.2.1, repro_ip: 127.0.0.2}
  - {src_ip: 192.0.2.2, repro_ip: 127.0.0.3}
  - {src_ip: 192.0.2.9, repro_ip: 127.0.0.9}
udp_generic:
  select: {udp: {dport: [5000]}}
  collector: {ip: 127.0.0.1, port: $UDP_PORT}
bgp:
  select: {tcp: {dport: [179]}}
  collector: {ip: 127.0.0.1, port: $TCP_PORT}
YAML
}

# run NAME PCAP ARGS...: replays, checks exit 0 and a printed summary.  The
# sink prints its counts when it stops: each run has a sink of its own.
run() {
	local name=$1 pcap=$2; shift 2
	start_sink sink "$TR" sink --udp 0 --tcp 0
	UDP_PORT=$(ready_port "$WORK/sink.ready" udp)
	TCP_PORT=$(ready_port "$WORK/sink.ready" tcp)
	config "$pcap" >"$WORK/$name.yml"
	timeout 120 "$TR" -t "$WORK/$name.yml" --stats-json "$WORK/$name.stats.json" "$@" \
		2>"$WORK/$name.log" || { cat "$WORK/$name.log" >&2; fail "$name: exit $? (want 0)"; }
	grep -q -- '--- traffic-reproducer summary' "$WORK/$name.log" || fail "$name: no summary printed"
	stop_sink
	cp "$WORK/sink.json" "$WORK/$name.sink.json"
}
sink_datagrams() { json_get "$WORK/$1.sink.json" 'd["totals"]["datagrams"]'; }
sent() { json_get "$WORK/$1.stats.json" "d[\"sections\"][\"$2\"][\"sent\"]"; }

# --limit N: exactly N datagrams arrive, from both exporters.
run limit "$WORK/udp.pcap" --limit 137 --topspeed
[ "$(sink_datagrams limit)" -eq 137 ] || fail "--limit 137: the sink got $(sink_datagrams limit) datagrams"
[ "$(sent limit udp_generic)" -eq 137 ] || fail "--limit 137: the summary says $(sent limit udp_generic) sent"
grep -q "^ended by --limit" "$WORK/limit.log" || fail "--limit: the summary does not say it ended the run"
[ "$(json_get "$WORK/limit.sink.json" 'len(d["udp"])')" -eq 2 ] || fail "--limit: not both exporters"
note "--limit 137: 137 datagrams arrived, exit 0"

# --loop 3: the list three times.
run loop "$WORK/udp.pcap" --loop 3 --topspeed
[ "$(sink_datagrams loop)" -eq 3000 ] || fail "--loop 3: the sink got $(sink_datagrams loop) datagrams, want 3000"
[ "$(json_get "$WORK/loop.stats.json" 'd["captures"]["played"]')" -eq 3 ] || fail "--loop 3: not 3 captures played"
note "--loop 3: 3000 datagrams"

# --loop 0 (forever) ends by --limit: the limit crosses captures.
run forever "$WORK/udp.pcap" --loop 0 --limit 2500 --topspeed
[ "$(sink_datagrams forever)" -eq 2500 ] || fail "--loop 0 --limit 2500: the sink got $(sink_datagrams forever)"
note "--loop 0 --limit 2500: 2500 datagrams over 3 plays"

# --pps and --mbps replace the capture's timing: everything arrives (no timing asserted).
run pps "$WORK/udp.pcap" --pps 4000 --loop 2
[ "$(sink_datagrams pps)" -eq 2000 ] || fail "--pps 4000 --loop 2: the sink got $(sink_datagrams pps), want 2000"
run mbps "$WORK/udp.pcap" --mbps 20
[ "$(sink_datagrams mbps)" -eq 1000 ] || fail "--mbps 20: the sink got $(sink_datagrams mbps), want 1000"
note "--pps 4000 and --mbps 20: every datagram arrived"

# --duration on a long capture (the OPEN is due at 1.5 s, the UPDATEs after 2.5 s):
# it stops, sends the Cease as at the end, exits 0 with the summary.
run duration "$WORK/bgp.pcap" --duration 2
[ "$(json_get "$WORK/duration.stats.json" 'd["tcp"]["sessions"]')" -eq 1 ] || fail "--duration: no BGP session"
[ "$(json_get "$WORK/duration.sink.json" 'd["tcp"][0]["types"].get("update", 0)')" -eq 0 ] ||
	fail "--duration 2: UPDATEs due later were sent"
[ "$(json_get "$WORK/duration.sink.json" '[(n["code"], n["subcode"]) for n in d["tcp"][0]["notifications"]]')" = "[(6, 2)]" ] ||
	fail "--duration: the session did not end with a Cease: $(cat "$WORK/duration.sink.json")"
grep -q "^ended by --duration" "$WORK/duration.log" || fail "--duration: the summary does not say it ended the run"
note "--duration 2: stopped before the UPDATEs, BGP Cease sent, exit 0"

# --loop 3 of two IPFIX exporters: with the default (same), two exporters whose
# sequence numbers continue over the plays; with loop_exporters: shift, six
# exporters (127.0.0.2 to .7: loop_block 2, the map's third entry is the BGP
# exporter), each with its template and its own sequence numbers.
"$GEN" --proto ipfix --count 40 --exporter 192.0.2.1 --exporter 192.0.2.2 --dport 4739 --out "$WORK/flows.pcap"
flows_config() {
	config "$WORK/flows.pcap" | sed "/^udp_generic:/,\$d"
	printf 'ipfix:\n  select: {udp: {dport: [4739]}}\n  collector: {ip: 127.0.0.1, port: %s}\n%s' "$UDP_PORT" "$1"
}
for mode in same shift; do
	start_sink sink "$TR" sink --udp 0 --tcp 0
	UDP_PORT=$(ready_port "$WORK/sink.ready" udp)
	flows_config "loop_exporters: $mode"$'\n'"loop_block: 2"$'\n' >"$WORK/$mode.yml"
	timeout 60 "$TR" -t "$WORK/$mode.yml" --loop 3 --topspeed 2>"$WORK/$mode.log" ||
		{ cat "$WORK/$mode.log" >&2; fail "--loop 3, loop_exporters: $mode: exit $?"; }
	stop_sink
	cp "$WORK/sink.json" "$WORK/$mode.sink.json"
done
python3 - "$WORK/same.sink.json" "$WORK/shift.sink.json" <<'PY' || fail "--loop 3: exporters or sequence numbers not as expected (above)"
import json, sys
same, shift = (json.load(open(p)) for p in sys.argv[1:])
def flows(d):
    return {e["exporter"]: e["netflow"] for e in d["udp"]}
ok = True
f = flows(same)
if sorted(f) != ["127.0.0.2", "127.0.0.3"] or any(sum(n["messages"] for n in v) != 63 or
        any(n["sequence_errors"] for n in v) for v in f.values()):
    print("same:", f, file=sys.stderr); ok = False
f = flows(shift)
if sorted(f) != ["127.0.0.%d" % i for i in range(2, 8)] or any(sum(n["messages"] for n in v) != 21 or
        any(n["sequence_errors"] or n["template_sets"] == 0 for n in v) for v in f.values()):
    print("shift:", f, file=sys.stderr); ok = False
sys.exit(0 if ok else 1)
PY
note "--loop 3: same keeps 2 exporters, sequences continuing; shift makes 6 exporters, each with its template"
# 50 routers played 4 times with shift look like 200 routers: 127.1.0.1 to 127.1.0.200.
args=() map=""
for i in $(seq 50); do args+=(--exporter "192.0.2.$i"); map+="  - {src_ip: 192.0.2.$i, repro_ip: 127.1.0.$i}"$'\n'; done
"$GEN" --proto ipfix --count 150 "${args[@]}" --dport 4739 --out "$WORK/routers.pcap"
start_sink sink "$TR" sink --udp 0
UDP_PORT=$(ready_port "$WORK/sink.ready" udp)
printf 'pcap: %s\nno_sync: true\nloop_exporters: shift\nnetwork:\n  map:\n%sipfix:\n  collector: {ip: 127.0.0.1, port: %s}\n' \
	"$WORK/routers.pcap" "$map" "$UDP_PORT" >"$WORK/routers.yml"
timeout 60 "$TR" -t "$WORK/routers.yml" --loop 4 --topspeed 2>"$WORK/routers.log" ||
	{ cat "$WORK/routers.log" >&2; fail "50 routers, --loop 4, shift: exit $?"; }
stop_sink
python3 - "$WORK/sink.json" <<'PY' || fail "50 routers x 4 plays with shift: not 200 exporters of 4 datagrams each (a template, 3 data) (above)"
import json, sys
d = json.load(open(sys.argv[1]))
got = {e["exporter"]: e for e in d["udp"]}
want = {"127.1.0.%d" % i for i in range(1, 201)}
bad = [a for a, e in got.items() if e["datagrams"] != 4 or any(n["sequence_errors"] or not n["template_sets"] for n in e["netflow"])]
if set(got) != want or bad:
    print("exporters:", len(got), "missing:", sorted(want - set(got))[:5], "extra:", sorted(set(got) - want)[:5],
          "bad:", bad[:5], file=sys.stderr)
    sys.exit(1)
PY
note "50 routers x --loop 4 with shift: the sink saw 200 exporters, no sequence errors"
if "$TR" -t "$WORK/shift.yml" --loop 0 --limit 5 2>"$WORK/shift0.err"; then fail "shift with --loop 0 was taken"; fi
grep -q "loop_exporters: shift needs a number of plays" "$WORK/shift0.err" || fail "shift with --loop 0: $(cat "$WORK/shift0.err")"

# --limit on a BGP session: it ends with a Cease, exit 0, at least N messages
# sent.  Not exactly N: messages count once written, and the ones held behind
# the OPEN until the collector answers are written together.
"$GEN" --proto bgp --count 200 --exporter 192.0.2.9 --out "$WORK/bgp200.pcap"
run bgplimit "$WORK/bgp200.pcap" --limit 50 --topspeed
got=$(json_get "$WORK/bgplimit.sink.json" 'sum(v for k, v in d["tcp"][0]["types"].items() if k != "notification")')
[ "$got" -ge 50 ] || fail "--limit 50 on BGP: the sink got $got messages"
[ "$(json_get "$WORK/bgplimit.sink.json" '[(n["code"], n["subcode"]) for n in d["tcp"][0]["notifications"]]')" = "[(6, 2)]" ] ||
	fail "--limit on BGP: the session did not end with a Cease"
note "--limit 50 on a BGP session: $got messages, then a Cease, exit 0"

# Bad values are refused before anything is sent.
for bad in "--pps 0" "--mbps -1" "--duration x" "--limit 0" "--loop -2" "--topspeed --pps 10"; do
	rc=0
	# shellcheck disable=SC2086
	"$TR" -t "$WORK/limit.yml" $bad 2>"$WORK/bad.err" || rc=$?
	[ "$rc" -eq 2 ] || fail "$bad: exit $rc, want 2"
	grep -q "see -h" "$WORK/bad.err" || fail "$bad: unexpected message: $(cat "$WORK/bad.err")"
done
note "bad values: exit 2"
echo PASS
