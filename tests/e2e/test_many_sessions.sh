#!/usr/bin/env bash
# End to end: many BMP sessions that share exporter addresses on different source ports
# (tr-pcapgen --ports), replayed at once, each arriving at the sink byte-exact on a
# connection of its own, from its exporter's repro address.  Then 5,000 sessions at
# once (past the sink's old cap of 4,096 connections): every one accepted, framed and
# counted by the sink.
. "$(dirname "$0")/../lib.sh"

ADDRS=3
PORTS=40
start_sink sink "$TR" sink --listen 127.0.0.1 --tcp 0
PORT=$(ready_port "$WORK/sink.ready" tcp 1)

exporters=()
for ((i = 1; i <= ADDRS; i++)); do exporters+=(--exporter "192.0.2.$i"); done
# Messages cut into segments of at most 300 bytes: reassembly and framing in every session.
"$GEN" --proto bmp --count $((ADDRS * PORTS * 10)) --records 40 --segment 300 --ports "$PORTS" \
	"${exporters[@]}" --out "$WORK/bmp.pcap" >/dev/null
{
	printf 'pcap: %s\ntime_factor: 0\nno_sync: true\nnetwork:\n  map:\n' "$WORK/bmp.pcap"
	for ((i = 1; i <= ADDRS; i++)); do printf '  - {src_ip: 192.0.2.%d, repro_ip: 127.0.3.%d}\n' "$i" "$i"; done
	printf 'bmp:\n  select: {tcp: {dport: [1790]}}\n  collector: {ip: 127.0.0.1, port: %s}\n' "$PORT"
} >"$WORK/bmp.yml"
"$TR" -t "$WORK/bmp.yml" --stats-json "$WORK/bmp.json" 2>"$WORK/bmp.log" || { cat "$WORK/bmp.log"; fail "replay: exit $?"; }
sessions=$(json_get "$WORK/bmp.json" 'd["tcp"]["sessions"]')
[ "$sessions" -eq $((ADDRS * PORTS)) ] || fail "$sessions sessions replayed, $((ADDRS * PORTS)) captured"
stop_sink

# Per exporter address, the captured sessions' streams (by source port) and the sink's
# (by the replay's port) must be the same set: every session whole, none mixed.
python3 - "$WORK/bmp.pcap" "$WORK/sink.dump" "$PORT" "$ADDRS" "$PORTS" <<'PY' || fail "streams differ"
import collections, socket, struct, sys

pcap, dump, port, addrs, ports = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
captured = collections.defaultdict(bytearray)
with open(pcap, "rb") as f:
    f.read(24)
    while (hdr := f.read(16)):
        caplen = struct.unpack("<I", hdr[8:12])[0]
        frame = f.read(caplen)
        ip = frame[14:]
        if frame[12:14] != b"\x08\x00" or ip[9] != 6:
            continue
        tcp = ip[(ip[0] & 15) * 4:struct.unpack(">H", ip[2:4])[0]]
        if struct.unpack(">H", tcp[2:4])[0] != 1790:
            continue
        src = socket.inet_ntoa(ip[12:16])
        captured[(src, struct.unpack(">H", tcp[0:2])[0])] += tcp[(tcp[12] >> 4) * 4:]
received = collections.defaultdict(str)
for line in open(dump):
    kind, exporter, eport, lport, hexdata = line.split()
    if kind == "tcp" and lport == port:
        received[(exporter, eport)] += hexdata
want = collections.defaultdict(list)
for (src, _), data in captured.items():
    want["127.0.3." + src.split(".")[-1]].append(data.hex())
got = collections.defaultdict(list)
for (exporter, _), data in received.items():
    got[exporter].append(data)
assert len(want) == addrs and all(len(v) == ports for v in want.values()), "the capture is not as generated"
for exporter in want:
    assert sorted(want[exporter]) == sorted(got[exporter]), \
        f"{exporter}: {len(got[exporter])} streams at the sink differ from the {ports} captured"
PY
note "$((ADDRS * PORTS)) sessions from $ADDRS addresses x $PORTS ports, each byte-exact on its own connection"

# 5,000 sessions at once: 20 addresses x 250 ports, 2 route monitoring messages each.
# Both processes raise their soft fd limit to the hard one; below that, no test.
MANY_ADDRS=20
MANY_PORTS=250
MANY=$((MANY_ADDRS * MANY_PORTS))
(($(ulimit -Hn) >= MANY + 256)) || skip "$MANY sessions need $((MANY + 256)) file descriptors, the hard limit is $(ulimit -Hn)"
start_sink many "$TR" sink --listen 127.0.0.1 --tcp 0
PORT=$(ready_port "$WORK/many.ready" tcp 1)
exporters=()
for ((i = 1; i <= MANY_ADDRS; i++)); do exporters+=(--exporter "192.0.2.$i"); done
"$GEN" --proto bmp --count $((MANY * 2)) --ports "$MANY_PORTS" "${exporters[@]}" --out "$WORK/many.pcap" >/dev/null
{
	printf 'pcap: %s\ntime_factor: 0\nno_sync: true\nnetwork:\n  map:\n' "$WORK/many.pcap"
	for ((i = 1; i <= MANY_ADDRS; i++)); do printf '  - {src_ip: 192.0.2.%d, repro_ip: 127.0.4.%d}\n' "$i" "$i"; done
	printf 'bmp:\n  select: {tcp: {dport: [1790]}}\n  collector: {ip: 127.0.0.1, port: %s}\n' "$PORT"
} >"$WORK/many.yml"
"$TR" -t "$WORK/many.yml" --stats-json "$WORK/many.stats.json" 2>"$WORK/many.log" || { cat "$WORK/many.log"; fail "replay of $MANY sessions: exit $?"; }
stop_sink
! grep -q "refusing a connection" "$WORK/many.err" || fail "the sink refused connections: $(grep -m1 refusing "$WORK/many.err")"
python3 - "$WORK/many.json" "$WORK/many.stats.json" "$MANY" "$WORK/many.pcap" <<'PY' || fail "the sink did not get every session whole"
import json, struct, sys

sink, stats, many = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
assert stats["tcp"]["sessions"] == many, f'{stats["tcp"]["sessions"]} sessions replayed'
assert stats["tcp"]["lost_bytes"] == 0, f'{stats["tcp"]["lost_bytes"]} bytes lost'
payload = 0
with open(sys.argv[4], "rb") as f:
    f.read(24)
    while (hdr := f.read(16)):
        frame = f.read(struct.unpack("<I", hdr[8:12])[0])
        ip = frame[14:]
        tcp = ip[(ip[0] & 15) * 4:struct.unpack(">H", ip[2:4])[0]]
        if ip[9] == 6 and struct.unpack(">H", tcp[2:4])[0] == 1790:
            payload += len(tcp) - (tcp[12] >> 4) * 4
conns = sum(e["connections"] for e in sink["tcp"])
closed = sum(e["closed"] for e in sink["tcp"])
assert conns == many and closed == many, f"{conns} connections, {closed} closed at the sink, {many} replayed"
assert all(e["protocol"] == "bmp" and e["framing_errors"] == 0 for e in sink["tcp"]), "not all framed as BMP"
got = sum(e["bytes"] for e in sink["tcp"])
assert got == payload, f"{got} bytes at the sink, {payload} captured"
assert sum(e["messages"] for e in sink["tcp"]) >= many * 3, "fewer than 3 messages a session"
PY
note "$MANY sessions at once, every one accepted and framed by the sink"
