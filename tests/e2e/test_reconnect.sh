#!/usr/bin/env bash
# reconnect: when the collector goes away mid-session, the replay connects again with a
# backoff and re-sends the session's prologue first (BMP: Initiation, then the Peer Up of
# each peer up), then goes on; what the capture had meanwhile is counted as lost.
. "$(dirname "$0")/../lib.sh"

command -v tshark >/dev/null || skip "tshark is not installed (make test-deps)"
start_sink first "$TR" sink --tcp 0
PORT=$(ready_port "$WORK/first.ready" tcp)

# 60 route monitoring messages 100 ms apart: about 6.5 s of session, room for a retry.
"$GEN" --proto bmp --count 60 --exporter 192.0.2.1 --gap-us 100000 --out "$WORK/bmp.pcap"
cat >"$WORK/bmp.yml" <<YAML
pcap: $WORK/bmp.pcap
time_factor: 1
no_sync: true
reconnect: true
network:
  map:
  - {src_ip: 192.0.2.1, repro_ip: 127.0.0.2}
bmp:
  collector: {ip: 127.0.0.1, port: $PORT}
YAML
"$TR" -t "$WORK/bmp.yml" --stats-json "$WORK/stats.json" 2>"$WORK/replay.log" &
replay=$!
sleep 1.5
stop_sink		# the collector goes away in the middle of the session ...
sleep 0.5
start_sink second "$TR" sink --tcp "$PORT"	# ... and comes back on the same port
rc=0
wait $replay || rc=$?
sleep 0.3
stop_sink
[ $rc -eq 1 ] || { cat "$WORK/replay.log"; fail "exit $rc: messages were lost while the collector was away, 1 expected"; }
grep -q "reconnecting in 1 s" "$WORK/replay.log" || { cat "$WORK/replay.log"; fail "no reconnect announced"; }

python3 - "$WORK/first.json" "$WORK/second.json" "$WORK/second.dump" "$WORK/stats.json" <<'PY' || fail "what the two collectors received"
import json, sys
first, second = (json.load(open(f)) for f in sys.argv[1:3])
stats = json.load(open(sys.argv[4]))
types = [int(l.split()[4][10:12], 16) for l in open(sys.argv[3]) if l.startswith("tcp ")]
# The new connection starts with the prologue: Initiation (4), then the Peer Up (3).
assert types[:2] == [4, 3], f"second collector's first messages: {types[:4]}"
# It then gets the rest of the session, up to the Termination (5).
assert types[-1] == 5 and types.count(0) > 0, types
f = first["tcp"][0]["types"]
assert f["initiation"] == 1 and f["peer_up"] == 1 and f["route_monitoring"] > 0, f
assert stats["tcp"]["reconnects"] == 1 and stats["tcp"]["closed_by_collector"] == 1, stats["tcp"]
total_rm = f["route_monitoring"] + types.count(0)
lost = stats["sections"]["bmp"]["dropped"]
print(f"--- first collector: {f['route_monitoring']} route monitoring; second: prologue + "
      f"{types.count(0)}; {lost} lost while away; {stats['tcp']['reconnects']} reconnect")
# Messages the kernel took just before the collector went away are gone unseen by
# either side (TCP acknowledges bytes, not what the application read): allow a few.
assert 57 <= total_rm + lost <= 60, (total_rm, lost)
PY
echo PASS
