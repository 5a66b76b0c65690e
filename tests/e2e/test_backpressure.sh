#!/usr/bin/env bash
# End to end: per-session backpressure.  Two TCP sessions in one capture, interleaved: one
# to a collector that accepts and never reads, one to the built-in sink.  The stalled
# session is held back on its own (reported as held, its rest lost when the run gives up
# on it: exit 1); the other session's collector gets every message of it, byte-exact.
# Nothing here is timed: the assertions are on what arrived and on the counters.
. "$(dirname "$0")/../lib.sh"

command -v python3 >/dev/null || skip "python3 is not installed"
command -v mergecap >/dev/null || skip "mergecap (wireshark-common) is not installed (make test-deps)"
command -v tshark >/dev/null || skip "tshark is not installed (make test-deps)"

# A collector that accepts connections and never reads them, with a small receive buffer
# so the kernel takes little of what it is sent.
python3 - "$WORK/stall.port" <<'PY' &
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.bind(("127.0.0.1", 0))
s.listen(8)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    held.append(s.accept()[0])
PY
STALL_PID=$!
cleanup_hooks+=("kill $STALL_PID")
for _ in $(seq 1 100); do [ -s "$WORK/stall.port" ] && break; sleep 0.05; done
[ -s "$WORK/stall.port" ] || fail "the stalled collector did not start"
start_sink sink "$TR" sink --tcp 0
SINK_PORT=$(ready_port "$WORK/sink.ready" tcp 1)

# About 8 MiB for the stalled collector (twice the per-connection bound), 1000 messages
# for the sink, in one capture.
"$GEN" --proto bmp --count 4000 --records 500 --exporter 192.0.2.1 --dport 1791 --out "$WORK/stall.pcap"
"$GEN" --proto bmp --count 1000 --exporter 192.0.2.2 --out "$WORK/reads.pcap"
mergecap -F pcap -w "$WORK/both.pcap" "$WORK/stall.pcap" "$WORK/reads.pcap"
cat >"$WORK/bp.yml" <<YAML
pcap: $WORK/both.pcap
time_factor: 0
no_sync: true
tcp_stall_limit: 5    # the stalled collector's session ends sooner than by default (30 s)
optimize: {network: {so_sndbuf: 65536}}
network:
  map:
  - {src_ip: 192.0.2.1, repro_ip: 127.0.0.2}
  - {src_ip: 192.0.2.2, repro_ip: 127.0.0.3}
bmp:
  select: {tcp: {dport: [1790]}}
  collector: {ip: 127.0.0.1, port: $SINK_PORT}
tcp_generic:
  select: {tcp: {dport: [1791]}}
  collector: {ip: 127.0.0.1, port: $(cat "$WORK/stall.port")}
YAML
rc=0
timeout 120 "$TR" -t "$WORK/bp.yml" --stats-json "$WORK/bp.json" 2>"$WORK/bp.log" || rc=$?
# A sanitizer build exits 1 on its findings too: those are no loss.
grep -q "Sanitizer" "$WORK/bp.log" && { cat "$WORK/bp.log"; fail "sanitizer findings"; }
[ $rc -eq 1 ] || { cat "$WORK/bp.log"; fail "exit $rc: the stalled collector's bytes were lost, 1 expected"; }
stop_sink

# The capture's stream from the reading exporter, by tshark, against the sink's dump.
want=$(tshark -r "$WORK/reads.pcap" -q -z follow,tcp,raw,0 2>/dev/null |
	awk '/^=+$/ { n++; next } n == 1 && /^[0-9a-f]+$/ { printf "%s", $0 }')
got=$(awk -v p="$SINK_PORT" '$1 == "tcp" && $4 == p && $2 == "127.0.0.3" { printf "%s", $5 }' "$WORK/sink.dump")
[ -n "$want" ] || fail "tshark found no stream in reads.pcap"
[ "$got" = "$want" ] || fail "the reading collector got $((${#got} / 2)) bytes, not the $((${#want} / 2)) captured"
python3 - "$WORK/bp.json" <<'PY' || { cat "$WORK/bp.log"; fail "report"; }
import json, sys
d = json.load(open(sys.argv[1]))
t, s = d["tcp"], d["sections"]
assert t["sessions"] == 2, t
assert t["sessions_held"] == 1, f"held sessions: {t['sessions_held']}"
assert t["lost_bytes"] > 0, "the stalled collector's bytes are not counted as lost"
assert t["closed_by_collector"] == 0 and t["connect_failures"] == 0, t
assert s["bmp"]["dropped"] == 0 and s["bmp"]["sent"] > 1000, s["bmp"]
PY
grep -q "its messages wait in order, nothing is dropped" "$WORK/bp.log" || { cat "$WORK/bp.log"; fail "the held session was not reported"; }
note "a stalled collector held back its own session ($(json_get "$WORK/bp.json" 'd["tcp"]["lost_bytes"]') bytes lost at the end, exit 1); the other collector got all $((${#want} / 2)) bytes of its session"
echo PASS
